package Test::Parley::WebSocket;

# A WebSocket (RFC 6455) client for tests, written by hand so that it can
# also send what a correct client never would (unmasked or fragmented
# control frames, bad opcodes, invalid UTF-8, lying lengths).
#
#   my $ws = Test::Parley::WebSocket->connect(port => $port, path => '/ws',
#                headers => { Origin => 'http://localhost' });
#   $ws->handshake_status;                # 101, or e.g. 403
#   $ws->handshake_headers->{upgrade};    # lower-cased names
#   $ws->send_json({ type => 'create', name => 'Alice' });
#   my $msg = $ws->recv_json(timeout => 3);               # undef on timeout
#   my $m = $ws->wait_for(sub { $_[0]{type} eq 'joined' }, timeout => 3);
#   my $code = $ws->close(1000);          # the server's close code
#
# Frames are hashes: { type => text|binary|close|ping|pong|continuation|
# opcode-N|eof, fin, rsv, opcode, masked, payload, code, reason }.
# A type 'eof' pseudo frame means the server closed the TCP connection.
# Incoming pings are answered with a pong automatically unless
# autopong => 0 was given (or ->autopong(0) called).

use strict;
use warnings;
use Digest::SHA qw(sha1);
use MIME::Base64 qw(encode_base64);
use JSON::PP ();
use Time::HiRes qw(time);
use Test::Parley::HTTP;

our $GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
my %Opcode = (continuation => 0, text => 1, binary => 2, close => 8, ping => 9, pong => 10);
my %Type   = reverse %Opcode;
my $JSON   = JSON::PP->new->utf8->canonical->allow_nonref;

# Connect and do the opening handshake.  Always returns an object; check
# ->is_open (101 with a correct Sec-WebSocket-Accept) or ->error.
# headers: hashref or arrayref of pairs; they replace the default header of
# the same name, and a value of undef removes it.
sub connect {
    my ($class, %a) = @_;
    my $self = bless {
        port     => $a{port} // $ENV{TEST_NGINX_PORT} // 1984,
        host     => $a{host} // '127.0.0.1',
        path     => $a{path} // '/ws',
        timeout  => $a{timeout} // 3,
        autopong => $a{autopong} // 1,
        buf      => '',
    }, $class;

    my $key = encode_base64(join('', map { chr int rand 256 } 1 .. 16), '');
    my @h = (Host => "localhost:$self->{port}", Upgrade => 'websocket',
             Connection => 'Upgrade', 'Sec-WebSocket-Key' => $key,
             'Sec-WebSocket-Version' => 13);
    my $extra = $a{headers} // [];
    $extra = [ map { ($_ => $extra->{$_}) } sort keys %$extra ] if ref $extra eq 'HASH';
    for (my $i = 0; $i < @$extra; $i += 2) {
        my ($k, $v) = @$extra[$i, $i + 1];
        my $found;
        for (my $j = 0; $j < @h; $j += 2) {
            next unless lc $h[$j] eq lc $k;
            $found = 1;
            if (defined $v) { $h[$j + 1] = $v } else { splice @h, $j, 2; $j -= 2 }
        }
        push @h, $k, $v if !$found && defined $v;
    }
    my $req = "GET $self->{path} HTTP/1.1\r\n";
    while (my ($k, $v) = splice @h, 0, 2) { $req .= "$k: $v\r\n" }
    $req .= "\r\n";

    my $r = Test::Parley::HTTP::request(port => $self->{port}, host => $self->{host},
        raw => $req, timeout => $self->{timeout}, keep => 1,
        rcvbuf => $a{rcvbuf});
    $self->{handshake} = $r;
    if ($r->{error}) {
        $self->{error} = "handshake: $r->{error}";
    } elsif ($r->{status} ne '101') {
        $self->{error} = "handshake answered HTTP $r->{status}";
    } elsif (($r->{headers}{'sec-websocket-accept'} // '')
             ne encode_base64(sha1($key . $GUID), '')) {
        $self->{error} = 'handshake: wrong or missing Sec-WebSocket-Accept';
        CORE::close($r->{sock});
    } else {
        $self->{sock} = delete $r->{sock};
        $self->{buf}  = delete $r->{rest};
    }
    return $self;
}

sub is_open           { $_[0]{sock} && !$_[0]{eof} }
sub error             { $_[0]{error} }
sub handshake_status  { $_[0]{handshake}{status} }
sub handshake_headers { $_[0]{handshake}{headers} // {} }
sub handshake_body    { $_[0]{handshake}{body} }
sub handshake_response { $_[0]{handshake} }    # the whole parsed answer
sub socket            { $_[0]{sock} }
sub autopong          { my $s = shift; $s->{autopong} = shift if @_; $s->{autopong} }
sub close_received    { $_[0]{close_received} }    # the server's close frame, if any

# --- sending -------------------------------------------------------------

# Encode one frame.  fin (1), rsv (0..7: 4 = RSV1), opcode (number or
# name), mask (1), payload (bytes), len (declared length, default the real one).
sub encode_frame {
    my (%f) = @_;
    my $payload = $f{payload} // '';
    utf8::encode($payload) if utf8::is_utf8($payload);
    my $op = $f{opcode} // 1;
    $op = $Opcode{$op} if exists $Opcode{$op};
    my $mask = $f{mask} // 1;
    my $len  = $f{len} // length $payload;
    my $out  = pack 'C', (($f{fin} // 1) ? 0x80 : 0) | ((($f{rsv} // 0) & 7) << 4) | ($op & 0x0f);
    my $m    = $mask ? 0x80 : 0;
    if    ($len < 126)   { $out .= pack 'C',  $m | $len }
    elsif ($len < 65536) { $out .= pack 'Cn', $m | 126, $len }
    else                 { $out .= pack 'CQ>', $m | 127, $len }
    if ($mask) {
        my $key = pack 'N', int rand 2**32;
        $out .= $key;
        $payload ^= substr($key x (int(length($payload) / 4) + 1), 0, length $payload);
    }
    return $out . $payload;
}

# Write raw bytes.  Returns 1, or 0 (e.g. the server has already closed:
# that is not fatal for a test by itself, what it reads next will tell).
sub send_raw {
    my ($self, $bytes) = @_;
    return 0 unless $self->{sock};
    return Test::Parley::HTTP::write_all($self->{sock}, $bytes, time + $self->{timeout});
}

sub send_frame  { my ($self, %f) = @_; $self->send_raw(encode_frame(%f)) }
sub send_text   { $_[0]->send_frame(opcode => 1, payload => $_[1]) }
sub send_binary { $_[0]->send_frame(opcode => 2, payload => $_[1]) }
sub send_ping   { $_[0]->send_frame(opcode => 9, payload => $_[1] // '') }
sub send_pong   { $_[0]->send_frame(opcode => 10, payload => $_[1] // '') }
sub send_json   { $_[0]->send_text($JSON->encode($_[1])) }

# A close frame: no code means an empty payload.
sub send_close {
    my ($self, $code, $reason) = @_;
    $self->{close_sent} = 1;
    my $p = defined $code ? pack('n', $code) . ($reason // '') : '';
    return $self->send_frame(opcode => 8, payload => $p);
}

# --- receiving -----------------------------------------------------------

# Take one complete frame off the buffer, if there is one.
sub _parse_frame {
    my ($self) = @_;
    my $b = \$self->{buf};
    return undef if length $$b < 2;
    my ($b1, $b2) = unpack 'CC', $$b;
    my ($len, $off) = ($b2 & 0x7f, 2);
    if ($len == 126) {
        return undef if length $$b < 4;
        ($len, $off) = (unpack('n', substr $$b, 2, 2), 4);
    } elsif ($len == 127) {
        return undef if length $$b < 10;
        ($len, $off) = (unpack('Q>', substr $$b, 2, 8), 10);
    }
    my $key;
    if ($b2 & 0x80) {
        return undef if length $$b < $off + 4;
        $key = substr $$b, $off, 4;
        $off += 4;
    }
    return undef if length $$b < $off + $len;
    my $payload = substr $$b, $off, $len;
    substr($$b, 0, $off + $len) = '';
    $payload ^= substr($key x (int($len / 4) + 1), 0, $len) if defined $key;
    my $op = $b1 & 0x0f;
    my %f = (fin => $b1 >> 7, rsv => ($b1 >> 4) & 7, opcode => $op,
             masked => ($b2 & 0x80) ? 1 : 0, payload => $payload,
             type => $Type{$op} // "opcode-$op");
    if ($op == 8 && length $payload >= 2) {
        $f{code}   = unpack 'n', $payload;
        $f{reason} = substr $payload, 2;
    }
    return \%f;
}

# The next raw frame; { type => 'eof' } once the server has closed the
# connection; undef after timeout seconds without a frame.
sub recv_frame {
    my ($self, %a) = @_;
    my $deadline = time + ($a{timeout} // $self->{timeout});
    while (1) {
        my $f = $self->_parse_frame;
        return $f if $f;
        return { type => 'eof', payload => '', error => $self->{read_error} }
            if $self->{eof} || !$self->{sock};
        my $n = Test::Parley::HTTP::read_some($self->{sock}, \$self->{buf}, $deadline);
        next if $n;
        return undef if !defined $n && $@ eq 'timeout';
        $self->{read_error} = $@ unless defined $n;
        $self->{eof} = 1;
    }
}

# The next message: text/binary (fragments reassembled: { type, payload }),
# or a close frame or eof.  Pings are answered (autopong) and, like pongs,
# skipped unless control => 1.  undef on timeout.
sub recv_message {
    my ($self, %a) = @_;
    my $deadline = time + ($a{timeout} // $self->{timeout});
    my $partial;
    while (1) {
        my $left = $deadline - time;
        my $f = $self->recv_frame(timeout => $left > 0 ? $left : 0.001) or return undef;
        my $t = $f->{type};
        if ($t eq 'ping') {
            $self->send_pong($f->{payload}) if $self->{autopong} && !$self->{close_sent};
            return $f if $a{control};
        } elsif ($t eq 'pong') {
            return $f if $a{control};
        } elsif ($t eq 'close') {
            $self->{close_received} = $f;
            return $f;
        } elsif ($t eq 'continuation' && $partial) {
            $partial->{payload} .= $f->{payload};
            return $partial if $f->{fin};
        } elsif (($t eq 'text' || $t eq 'binary') && !$f->{fin}) {
            $partial = { %$f };
        } else {
            return $f;    # a complete message, eof, or something odd
        }
    }
}

# The next text message decoded as JSON (skipping pings/pongs), or undef on
# timeout, close, eof, a binary message or bad JSON (see ->last_message).
sub recv_json {
    my ($self, %a) = @_;
    my $m = $self->{last_message} = $self->recv_message(%a);
    return undef unless $m && $m->{type} eq 'text';
    return eval { $JSON->decode($m->{payload}) };
}
sub last_message { $_[0]{last_message} }

# Read JSON messages until $cb->($msg) is true; returns that message, or
# undef on timeout, close or eof.
sub wait_for {
    my ($self, $cb, %a) = @_;
    my $deadline = time + ($a{timeout} // $self->{timeout});
    while ((my $left = $deadline - time) > 0) {
        my $m = $self->recv_message(timeout => $left);
        return undef if !$m || $m->{type} eq 'close' || $m->{type} eq 'eof';
        next unless $m->{type} eq 'text';
        my $j = eval { $JSON->decode($m->{payload}) } // next;
        return $j if $cb->($j);
    }
    return undef;
}

# Wait (skipping anything) for the server to close the TCP connection.
sub wait_eof {
    my ($self, %a) = @_;
    my $deadline = time + ($a{timeout} // $self->{timeout});
    while ((my $left = $deadline - time) > 0) {
        my $f = $self->recv_frame(timeout => $left) or return 0;
        return 1 if $f->{type} eq 'eof';
    }
    return 0;
}

# Closing handshake: send a close frame, wait for the server's close frame
# and for the TCP close.  Returns the server's close code (undef if none).
sub close {
    my ($self, $code, $reason, %a) = @_;
    return undef unless $self->{sock};
    $self->send_close($code // 1000, $reason) unless $self->{close_sent};
    my $deadline = time + ($a{timeout} // $self->{timeout});
    until ($self->{close_received}) {
        my $left = $deadline - time;
        last if $left <= 0;
        my $m = $self->recv_message(timeout => $left) or last;
        last if $m->{type} eq 'eof';
    }
    $self->wait_eof(timeout => $deadline - time) if $self->{close_received};
    $self->disconnect;
    return $self->{close_received} ? $self->{close_received}{code} : undef;
}

# Drop the TCP connection without a closing handshake.
sub disconnect {
    my ($self) = @_;
    CORE::close($self->{sock}) if $self->{sock};
    delete $self->{sock};
    $self->{eof} = 1;
}

sub DESTROY { $_[0]->disconnect }

1;
