package Test::Parley::Util;

# Small helpers the plain-Perl .t files share (t/009 to t/012):
#
#   my $sdp = fixture('chromium-av-offer.sdp');   # tests/fixtures/sdp/
#   my $st = status($server);        # { parley_NAME => sum over workers }
#   my $m = next_of($ws, 5, 'joined');  # that type (or an error), or undef
#   nodelay($ws);                    # TCP_NODELAY on a test client
#
# No Test::More here: the callers assert.

use strict;
use warnings;
use Exporter qw(import);
use File::Basename qw(dirname);
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Test::Parley::HTTP;

our @EXPORT_OK = qw(fixture status next_of nodelay);

my $Fixtures = dirname(__FILE__) . '/../../../../tests/fixtures/sdp';

sub fixture {
    my ($name) = @_;
    open my $fh, '<', "$Fixtures/$name" or die "$Fixtures/$name: $!";
    local $/;
    return <$fh>;
}

# Every worker's line of each counter and gauge of the status page (a
# location "= /status" with parley_status), summed by name.
sub status {
    my ($server) = @_;
    my $r = Test::Parley::HTTP::request(port => $server->port,
        raw => "GET /status HTTP/1.1\r\nHost: localhost\r\n"
             . "Connection: close\r\n\r\n");
    my %v;
    for (split /\n/, $r->{body} // '') {
        $v{$1} += $2 if /^(parley_\w+)(?:\{[^}]*\})? (\d+)$/;
    }
    return \%v;
}

# The next JSON message of one of the types, or an "error", skipping the
# others; undef after $timeout seconds, a close or the end.
sub next_of {
    my ($ws, $timeout, @types) = @_;
    my %want = map { $_ => 1 } @types, 'error';
    return $ws->wait_for(sub { $want{ $_[0]{type} // '' } },
                         timeout => $timeout);
}

# A message that needs no answer must not hold the next one back behind
# the server's delayed ACK.
sub nodelay {
    my ($ws) = @_;
    setsockopt($ws->socket, IPPROTO_TCP, TCP_NODELAY, 1) if $ws->socket;
}

1;
