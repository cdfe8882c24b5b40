package Test::Parley::WebSocket::Exchange;

# Runs a "--- ws_exchange" script (the line language is described in the
# POD of Test::Nginx::Socket).  No Test::More here: run() returns
#   { ok => 1, steps => N, vars => {...} }
# or, at the first failing line (the rest is not run),
#   { ok => 0, line => 7, text => 'alice< {...}', error => 'what went wrong' }
# exchange_ok() wraps that into one Test::More check, for plain Perl tests:
#   Test::Parley::WebSocket::Exchange::exchange_ok(
#       port => $s->port, script => $script, name => 'two peers');

use strict;
use warnings;
use B ();
use JSON::PP ();
use Time::HiRes qw(sleep time);
use Test::Parley::HTTP;
use Test::Parley::WebSocket;

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

# port, host, path (default /ws), headers (arrayref of pairs for the
# handshake), timeout (seconds, default 3), script, vars (initial captures)
sub run {
    my ($class, %a) = @_;
    my $self = bless {
        %a,
        path    => $a{path} // '/ws',
        timeout => $a{timeout} // 3,
        vars    => { %{ $a{vars} // {} } },
        clients => {},
    }, $class;
    my @lines = split /\n/, $a{script} // '';
    my $steps = 0;
    for my $i (0 .. $#lines) {
        my $line = $lines[$i];
        $line =~ s/\s+$//;
        next if $line =~ /^\s*(#|$)/;
        $line =~ s/^\s+//;
        $steps++;
        my $err = eval { $self->step($line) };
        $err = $@ if $@;
        if (defined $err) {
            chomp $err;
            $self->finish;
            return { ok => 0, line => $i + 1, text => $line, error => $err,
                     steps => $steps, vars => $self->{vars} };
        }
    }
    $self->finish;
    return { ok => 1, steps => $steps, vars => $self->{vars} };
}

sub exchange_ok {
    my (%a) = @_;
    my $name = delete $a{name} // 'ws_exchange';
    my $r = __PACKAGE__->run(%a);
    my $tb = Test::More->builder;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return $tb->ok(1, $name) if $r->{ok};
    $tb->ok(0, "$name - line $r->{line}: $r->{text}");
    $tb->diag("ws_exchange line $r->{line}: $r->{text}\n  $r->{error}");
    return 0;
}

sub finish {
    my ($self) = @_;
    $_->disconnect for map { $_->{ws} } values %{ $self->{clients} };
    $self->{clients} = {};
}

# The client called $name, connecting it on first use (to $path if given).
sub client {
    my ($self, $name, $path) = @_;
    return $self->{clients}{$name} //= {
        ws => Test::Parley::WebSocket->connect(
            port => $self->{port}, host => $self->{host},
            path => $path // $self->{path}, headers => $self->{headers},
            timeout => $self->{timeout}),
    };
}

# The client, which must have an open connection.
sub open_ws {
    my ($self, $name) = @_;
    my $ws = $self->client($name)->{ws};
    die "$name is not connected: " . ($ws->error // 'connection closed') . "\n"
        unless $ws->{sock};
    return $ws;
}

# --- one line ------------------------------------------------------------
# Returns undef on success or an error message.

sub step {
    my ($self, $line) = @_;
    if ($line =~ /^sleep\s+([\d.]+)$/) { sleep $1; return undef }
    return $self->poll_step($1, $2) if $line =~ /^poll\s+(\S+)\s+(.+)$/;
    $line =~ /^([A-Za-z_]\w*)([<>])(.*)$/
        or return "cannot parse this line";
    my ($name, $dir, $rest) = ($1, $2, $3);
    if ($dir eq '>') {
        return $self->send_step($name, 'text', '') if $rest eq '';
        return $self->send_step($name, 'text', $1) if $rest =~ /^ (.*)$/;
        return $self->send_step($name, $1, $2 // '') if $rest =~ /^([\w-]+)(?:\s+(.*))?$/;
    } else {
        return $self->expect_step($name, 'json', $1, 0) if $rest =~ /^ (.*)$/;
        return $self->expect_step($name, 'json', $1, 1) if $rest =~ /^! (.*)$/;
        return $self->expect_step($name, 'like', $1)    if $rest =~ /^~ (.*)$/;
        return $self->expect_step($name, $1, $2 // '')  if $rest =~ /^([\w-]+)(?:\s+(.*))?$/;
    }
    return "cannot parse this line";
}

# "poll /status ^parley_rooms 0$": GET the path every 50 ms until the body
# matches the regex (multi-line: ^ and $ match at each line), within the
# timeout.  The way to wait for the server to have done something no
# client is told about, instead of a sleep.
sub poll_step {
    my ($self, $path, $re) = @_;
    my $raw = "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    my $deadline = time + $self->{timeout};
    my $r;
    while (1) {
        $r = Test::Parley::HTTP::request(port => $self->{port}, host => $self->{host},
                                        raw => $raw, timeout => $self->{timeout});
        return undef if ($r->{body} // '') =~ /$re/m;
        last if time >= $deadline;
        sleep 0.05;
    }
    my $got = $r->{error} // "HTTP $r->{status}: $r->{body}";
    $got = substr($got, 0, 2000) . '...' if length $got > 2000;
    return "GET $path did not match /$re/ within $self->{timeout} s; the last answer:\n$got";
}

sub _hex {
    my ($h) = @_;
    $h =~ s/\s+//g;
    die "bad hex '$h'\n" if $h =~ /[^0-9a-fA-F]/ || length($h) % 2;
    return pack 'H*', $h;
}

sub send_step {
    my ($self, $name, $cmd, $arg) = @_;
    if ($cmd eq 'connect') {
        die "$name is already connected\n" if $self->{clients}{$name};
        $self->client($name, $arg eq '' ? undef : $self->subst_text($arg));
        return undef;
    }
    if ($cmd eq 'disconnect') { $self->client($name)->{ws}->disconnect; return undef }
    if ($cmd eq 'autopong')   { $self->client($name)->{ws}->autopong($arg); return undef }

    my $ws = $self->open_ws($name);
    if    ($cmd eq 'text')       { $ws->send_text($self->subst_text($arg)) }
    elsif ($cmd eq 'binary')     { $ws->send_binary(_hex($arg)) }
    elsif ($cmd eq 'text-bytes') { $ws->send_frame(opcode => 1, payload => _hex($arg)) }
    elsif ($cmd eq 'raw')        { $ws->send_raw(_hex($arg)) }
    elsif ($cmd eq 'ping')       { $ws->send_ping($arg) }
    elsif ($cmd eq 'pong')       { $ws->send_pong($arg) }
    elsif ($cmd eq 'close') {
        my ($code, $reason) = $arg =~ /^(\d+)?\s*(.*)$/;
        $ws->send_close($code, $reason);
    } elsif ($cmd eq 'frame') {
        my %f = _pairs($arg);
        $f{payload} = exists $f{hex} ? _hex(delete $f{hex}) : delete $f{text} // '';
        $ws->send_frame(%f);
    } else {
        return "unknown command '>$cmd'";
    }
    return undef;    # a failed write is no error: the next '<' line tells
}

# "fin=0 opcode=1 hex=41" -> (fin => 0, opcode => 1, hex => '41')
sub _pairs {
    my ($s) = @_;
    my %h;
    for (split ' ', $s) {
        /^(\w+)=(.*)$/ or die "expected key=value, got '$_'\n";
        $h{$1} = $2;
    }
    return %h;
}

sub expect_step {
    my ($self, $name, $cmd, $arg, $negate) = @_;
    my $c = $self->client($name);
    my $ws = $c->{ws};
    my $t  = $self->{timeout};

    # checks on the handshake answer
    if ($cmd eq 'status') {
        my $got = $ws->handshake_status // 'none (' . ($ws->error // '?') . ')';
        return $got eq $arg ? undef : "handshake status: expected $arg, got $got";
    }
    if ($cmd eq 'header') {
        my $h = $ws->handshake_headers;
        if ($arg =~ /^!\s*(\S+)$/) {
            return defined $h->{ lc $1 } ? "handshake header $1 present: $h->{lc $1}" : undef;
        }
        my ($k, $v) = $arg =~ /^([^:\s]+)\s*:\s*(.*)$/ or return "expected 'Name: value'";
        my $got = $h->{ lc $k };
        return defined $got && $got eq $v ? undef
             : "handshake header $k: expected '$v', got " . (defined $got ? "'$got'" : 'none');
    }

    $ws = $self->open_ws($name);
    if ($cmd eq 'close') {
        my $m = $ws->recv_message(timeout => $t);
        return "expected a close frame, got " . describe($m, $t) unless $m && $m->{type} eq 'close';
        my $code = $m->{code} // 'none';
        return "expected close code $arg, got " . describe($m) if $arg ne '' && $code ne $arg;
        $ws->send_close($m->{code}) unless $ws->{close_sent};   # answer, like a browser
        return $ws->wait_eof(timeout => $t) ? undef
             : "the server did not close the TCP connection within $t s after its close frame";
    }
    if ($cmd eq 'eof') {
        while (1) {
            my $m = $ws->recv_message(timeout => $t);
            return "expected the server to close the connection, got " . describe($m, $t)
                unless $m && ($m->{type} eq 'close' || $m->{type} eq 'eof');
            return undef if $m->{type} eq 'eof';
        }
    }
    if ($cmd eq 'quiet') {
        my $ms = $arg eq '' ? 300 : $arg;
        my $m = $ws->recv_message(timeout => $ms / 1000);
        return $m ? "expected nothing for $ms ms, got " . describe($m) : undef;
    }
    if ($cmd eq 'ping' || $cmd eq 'pong') {
        my $m;
        do { $m = $ws->recv_message(timeout => $t, control => 1) }
            while $m && $m->{type} =~ /^p[io]ng$/ && $m->{type} ne $cmd;
        return "expected a $cmd, got " . describe($m, $t) unless $m && $m->{type} eq $cmd;
        return $arg eq '' || $m->{payload} eq $arg ? undef
             : "expected $cmd payload '$arg', got " . describe($m);
    }
    if ($cmd eq 'frame') {    # the next raw frame, bits as given
        my %want = _pairs($arg);
        $want{payload} = _hex(delete $want{hex}) if exists $want{hex};
        $want{payload} = delete $want{text} if exists $want{text};
        my $f = $ws->recv_frame(timeout => $t);
        return "expected a frame, got " . describe($f, $t) unless $f && $f->{type} ne 'eof';
        for my $k (sort keys %want) {
            my $got = $f->{$k} // 'none';
            return "frame $k: expected '$want{$k}', got '$got' in " . describe($f)
                if $got ne $want{$k};
        }
        return undef;
    }

    # a data message
    my $m = $ws->recv_message(timeout => $t);
    return "expected a message, got " . describe($m, $t)
        unless $m && ($m->{type} eq 'text' || $m->{type} eq 'binary');
    if ($cmd eq 'binary') {
        return $m->{type} eq 'binary' && $m->{payload} eq _hex($arg) ? undef
             : "expected binary $arg, got " . describe($m);
    }
    return "expected a text message, got " . describe($m) unless $m->{type} eq 'text';
    if ($cmd eq 'text') {
        my $want = $self->subst_text($arg);
        utf8::encode($want) if utf8::is_utf8($want);
        return $m->{payload} eq $want ? undef : "expected text '$want', got " . describe($m);
    }
    if ($cmd eq 'like') {
        return $m->{payload} =~ /$arg/ ? undef : "expected text like /$arg/, got " . describe($m);
    }
    return "unknown command '<$cmd'" unless $cmd eq 'json';

    my $expected = $arg =~ /^\s*[\[\{]/
        ? (eval { $JSON->decode($arg) } // die "bad expected JSON: $@")
        : _shorthand($arg);
    my $got = eval { $JSON->decode($m->{payload}) };
    unless (defined $got || $m->{payload} eq 'null') {
        return $negate ? undef : "expected JSON, got " . describe($m);
    }
    my %vars = %{ $self->{vars} };
    my $err = match($expected, $got, '$', \%vars);
    if ($negate) {
        return defined $err ? undef : "the message matched, but must not: " . describe($m);
    }
    return "$err\n  in " . describe($m) if defined $err;
    $self->{vars} = \%vars;    # keep the captures of a successful match
    return undef;
}

# "type=joined participant.name=Bob n=3" -> {type=>"joined", participant=>{name=>"Bob"}, n=>3}
sub _shorthand {
    my ($s) = @_;
    my %h;
    for my $tok (split ' ', $s) {
        my ($k, $v) = $tok =~ /^([\w.-]+)=(.*)$/ or die "expected key=value, got '$tok'\n";
        $v = $JSON->decode($v)
            if $v =~ /^(-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null|".*")$/;
        my @path = split /\./, $k;
        my $last = pop @path;
        my $node = \%h;
        $node = $node->{$_} //= {} for @path;
        $node->{$last} = $v;
    }
    return \%h;
}

# Replace "$var" (quoted: by its JSON encoding) and $var (inside a string:
# by its text) with captured values.
sub subst_text {
    my ($self, $text) = @_;
    my $v = $self->{vars};
    $text =~ s{"\$(\w+)"}{
        exists $v->{$1} ? $JSON->encode($v->{$1}) : die "variable \$$1 is not set\n"
    }ge;
    $text =~ s{\$(\w+)}{
        !exists $v->{$1} ? "\$$1"
        : ref $v->{$1} || json_type($v->{$1}) ne 'string' ? $JSON->encode($v->{$1})
        : substr($JSON->encode($v->{$1}), 1, -1)
    }ge;
    return $text;
}

# --- matching --------------------------------------------------------------

# The JSON type of a decoded value (numbers and strings are told apart by
# the flags JSON::PP left on the scalar).
sub json_type {
    my ($v) = @_;
    return 'null'    unless defined $v;
    return 'object'  if ref $v eq 'HASH';
    return 'array'   if ref $v eq 'ARRAY';
    return 'boolean' if JSON::PP::is_bool($v);
    my $f = B::svref_2object(\$v)->FLAGS;
    return ($f & (B::SVp_IOK | B::SVp_NOK)) && !($f & B::SVp_POK) ? 'number' : 'string';
}

# undef if $exp is a subset of $got, else where and why not.  "*" matches
# any value; "$name" captures into %$vars, or must equal the captured value.
sub match {
    my ($exp, $got, $path, $vars) = @_;
    my $te = json_type($exp);
    if ($te eq 'string' && $exp eq '*') { return undef }
    if ($te eq 'string' && $exp =~ /^\$(\w+)$/) {
        if (!exists $vars->{$1}) { $vars->{$1} = $got; return undef }
        return undef if $JSON->encode($vars->{$1}) eq $JSON->encode($got);
        return "$path: expected \$$1 = " . $JSON->encode($vars->{$1}) . ", got " . $JSON->encode($got);
    }
    my $tg = json_type($got);
    return "$path: expected $te " . $JSON->encode($exp) . ", got $tg " . $JSON->encode($got)
        if $te ne $tg;
    if ($te eq 'object') {
        for my $k (sort keys %$exp) {
            return "$path.$k: missing" unless exists $got->{$k};
            my $e = match($exp->{$k}, $got->{$k}, "$path.$k", $vars);
            return $e if defined $e;
        }
        return undef;
    }
    if ($te eq 'array') {
        return "$path: expected " . @$exp . " elements, got " . @$got . ": " . $JSON->encode($got)
            if @$exp != @$got;
        for my $i (0 .. $#$exp) {
            my $e = match($exp->[$i], $got->[$i], "$path\[$i]", $vars);
            return $e if defined $e;
        }
        return undef;
    }
    my $same = $te eq 'null'    ? 1
             : $te eq 'boolean' ? !!$exp == !!$got
             : $te eq 'number'  ? $exp == $got
             :                    $exp eq $got;
    return $same ? undef
         : "$path: expected " . $JSON->encode($exp) . ", got " . $JSON->encode($got);
}

# A received frame/message for error messages.
sub describe {
    my ($m, $timeout) = @_;
    return 'nothing' . (defined $timeout ? " within $timeout s" : '') unless $m;
    my $t = $m->{type};
    return 'the end of the connection (server closed TCP'
         . ($m->{error} ? ": $m->{error}" : '') . ')' if $t eq 'eof';
    return 'a close frame with code ' . ($m->{code} // 'none')
         . (length($m->{reason} // '') ? " reason '$m->{reason}'" : '') if $t eq 'close';
    my $p = $m->{payload} // '';
    $p = substr($p, 0, 300) . '...(' . length($p) . ' bytes)' if length $p > 300;
    return "binary message " . unpack('H*', $p) if $t eq 'binary';
    my $bits = exists $m->{fin} && !($m->{fin} && !$m->{rsv} && !$m->{masked})
        ? " [fin=$m->{fin} rsv=$m->{rsv} masked=$m->{masked}]" : '';
    return "$t$bits '$p'";
}

1;
