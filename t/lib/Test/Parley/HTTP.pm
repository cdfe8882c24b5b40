package Test::Parley::HTTP;

# A small HTTP/1.x client for the test harness: raw bytes out, a parsed
# response back.  Everything has a deadline, so a test never hangs.
#
#   my $r = Test::Parley::HTTP::request(port => 1984, raw => "GET / HTTP/1.0\r\n\r\n");
#   $r->{status}, $r->{headers}{'content-type'}, $r->{body}, $r->{error}
#
# A 101 (Switching Protocols) answer ends after its header; with keep => 1
# the socket and any bytes read past the header are handed back as
# $r->{sock} and $r->{rest} (the WebSocket client uses this).

use strict;
use warnings;
use IO::Socket::INET;
use Socket ();
use IO::Select;
use Errno qw(EAGAIN EINTR EWOULDBLOCK);
use Time::HiRes qw(time);

$SIG{PIPE} = 'IGNORE';    # a peer that closes early must not kill the test

# Connect to host:port; returns a non-blocking socket or (undef, error).
# rcvbuf => N sets SO_RCVBUF before connecting, so that the window the
# connection starts with is already small (back-pressure tests).
sub connect_tcp {
    my (%a) = @_;
    my $sock;
    if ($a{rcvbuf}) {
        $sock = IO::Socket::INET->new(Proto => 'tcp')
            or return (undef, "socket: $!");
        setsockopt($sock, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(), $a{rcvbuf})
            or return (undef, "SO_RCVBUF: $!");
        $sock->connect(Socket::pack_sockaddr_in($a{port},
                           Socket::inet_aton($a{host} // '127.0.0.1')))
            or return (undef, "cannot connect to port $a{port}: $!");
    } else {
        $sock = IO::Socket::INET->new(
            PeerAddr => $a{host} // '127.0.0.1',
            PeerPort => $a{port},
            Proto    => 'tcp',
            Timeout  => $a{timeout} // 3,
        ) or return (undef, "cannot connect to port $a{port}: $@");
    }
    binmode $sock;
    $sock->blocking(0);
    return ($sock);
}

# Write all of $data before $deadline.  Returns 1, or 0 with $! set.
sub write_all {
    my ($sock, $data, $deadline) = @_;
    my $sel = IO::Select->new($sock);
    my $off = 0;
    while ($off < length $data) {
        my $left = $deadline - time;
        if ($left <= 0) { $! = Errno::ETIMEDOUT(); return 0 }
        next unless $sel->can_write($left);
        my $n = syswrite($sock, $data, length($data) - $off, $off);
        if (!defined $n) {
            next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
            return 0;
        }
        $off += $n;
    }
    return 1;
}

# Append what arrives before $deadline to $$buf.
# Returns bytes read (>0), 0 on EOF, undef on timeout ('timeout' in $@)
# or error (message in $@).
sub read_some {
    my ($sock, $buf, $deadline) = @_;
    my $sel = IO::Select->new($sock);
    while (1) {
        my $left = $deadline - time;
        if ($left <= 0) { $@ = 'timeout'; return undef }
        next unless $sel->can_read($left);
        my $n = sysread($sock, $$buf, 65536, length $$buf);
        return $n if defined $n;
        next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
        $@ = "read error: $!";
        return undef;
    }
}

# Parse "HTTP/1.1 200 OK\r\nName: value\r\n..." (without the empty line).
sub parse_head {
    my ($head) = @_;
    my ($status_line, @lines) = split /\r?\n/, $head;
    my %r = (raw_headers => $head, headers => {}, header_list => []);
    if ($status_line =~ m{^(HTTP/\d\.\d)\s+(\d{3})\s*(.*)$}) {
        @r{qw(protocol status reason)} = ($1, $2, $3);
    } else {
        $r{error} = "bad status line: $status_line";
    }
    for my $line (@lines) {
        next unless $line =~ /^([^:\s]+)\s*:\s*(.*?)\s*$/;
        push @{ $r{header_list} }, [$1, $2];
        my $k = lc $1;
        $r{headers}{$k} = exists $r{headers}{$k} ? "$r{headers}{$k}, $2" : $2;
    }
    return \%r;
}

# Send raw request bytes and read one response.
#   port, host, raw, timeout (default 3), head (1: no body, for HEAD),
#   keep (1: return the socket in {sock} when the status is 101),
#   until_close (1: then read on until the server closes the connection,
#   and set {error} if it does not within the timeout: upstream
#   Test::Nginx reads every answer that way)
sub request {
    my (%a) = @_;
    my $timeout  = $a{timeout} // 3;
    my $deadline = time + $timeout;
    my ($sock, $err) = connect_tcp(%a, timeout => $timeout);
    return { error => $err } unless $sock;

    write_all($sock, $a{raw}, $deadline)
        or return { error => "write failed: $!" };

    my $buf = '';
    my $r;
    while (1) {    # the header, skipping interim 100 Continue answers
        if ($buf =~ /\A(.*?)\r?\n\r?\n/s) {
            my $head = $1;
            substr($buf, 0, $+[0]) = '';
            $r = parse_head($head);
            last unless ($r->{status} // '') eq '100';
            next;
        }
        my $n = read_some($sock, \$buf, $deadline);
        next if $n;
        my $why = defined $n ? 'connection closed' : $@;
        return { error => "no complete response header ($why)", raw => $buf };
    }
    return $r if $r->{error};

    my $status = $r->{status};
    if ($status eq '101') {
        if ($a{keep}) { @$r{qw(sock rest)} = ($sock, $buf) }
        else          { _wait_close($sock, $r, $deadline) if $a{until_close}; close $sock }
        $r->{body} = '';
        return $r;
    }

    my $body = '';
    my $h    = $r->{headers};
    if ($a{head} || $status =~ /^(1..|204|304)$/) {
        # no body
    } elsif (($h->{'transfer-encoding'} // '') =~ /chunked/i) {
        while (1) {
            if ($buf =~ /\A([0-9a-fA-F]+)[^\r\n]*\r\n/) {
                my ($size, $hl) = (hex $1, $+[0]);
                if ($size == 0) {    # last chunk, then trailers till an empty line
                    if ($buf =~ /\A[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n/) { last }
                } elsif (length($buf) >= $hl + $size + 2) {
                    $body .= substr($buf, $hl, $size);
                    substr($buf, 0, $hl + $size + 2) = '';
                    next;
                }
            }
            my $n = read_some($sock, \$buf, $deadline);
            next if $n;
            $r->{error} = 'truncated chunked body (' . (defined $n ? 'connection closed' : $@) . ')';
            last;
        }
    } elsif (defined $h->{'content-length'}) {
        my $len = $h->{'content-length'};
        while (length $buf < $len) {
            my $n = read_some($sock, \$buf, $deadline);
            next if $n;
            $r->{error} = 'truncated body (' . (defined $n ? 'connection closed' : $@) . ')';
            last;
        }
        $body = substr($buf, 0, $len);
    } else {    # until the server closes
        while (1) {
            my $n = read_some($sock, \$buf, $deadline);
            next if $n;
            $r->{error} = "body not terminated ($@)" unless defined $n;
            last;
        }
        $body = $buf;
        $a{until_close} = 0;    # it has closed
    }
    _wait_close($sock, $r, $deadline) if $a{until_close} && !$r->{error};
    close $sock;
    $r->{body} = $body;
    return $r;
}

# Read and drop what comes until the server closes the connection.
sub _wait_close {
    my ($sock, $r, $deadline) = @_;
    my $rest = '';
    while (1) {
        my $n = read_some($sock, \$rest, $deadline);
        next if $n;
        return if defined $n;
        $r->{error} = "the server did not close the connection after its answer ($@):"
            . " upstream Test::Nginx reads an answer until the server closes";
        return;
    }
}

1;
