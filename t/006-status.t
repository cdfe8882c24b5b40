# parley_status: every worker's counters and the directory's occupancy in
# the Prometheus text format, whichever worker answers.
#
# Plain Perl on the harness's API (POD of t/lib/Test/Nginx/Socket.pm): the
# figures are read after WebSocket traffic, which the block format runs only
# after its requests.

use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use Test::Parley::ErrorLog;
use Test::Parley::Server;
use Test::Parley::WebSocket;
use IO::Socket::INET;

my $S = Test::Parley::Server->start(
    workers     => 2,
    http_config => "    parley_zone parley 4m;\n"
                   . "    parley_resume_timeout 0;\n"
                 . "    parley_max_rooms 7;\n",
    config      => "    location /ws { parley_signaling; }\n"
                 . "    location = /status { parley_status; }\n");

# Sums a counter (or reads a gauge) over every worker's line.
sub figure {
    my ($text, $name) = @_;
    my ($sum, $seen) = (0, 0);
    while ($text =~ /^parley_\Q$name\E(?:\{[^}]*\})? (\d+)$/mg) {
        $sum += $1;
        $seen++;
    }
    return $seen ? $sum : undef;
}

sub status {
    my $r = $S->http(path => '/status');
    is($r->{status}, 200, 'status answers 200');
    return $r;
}

# Every figure of the status page: { name => sum over the workers }.
sub figures {
    my $body = $S->http(path => '/status')->{body} // '';
    my %f;
    $f{$1} += $2 while $body =~ /^parley_(\w+)(?:\{[^}]*\})? (\d+)$/mg;
    return \%f;
}

# The figures once $done->(figures) holds, polled for at most 3 s; the
# last ones seen otherwise (the assertions that follow then say what is
# wrong).
sub figures_when {
    my ($done) = @_;
    my $deadline = time + 3;
    my $f = figures();
    until ($done->($f) || time > $deadline) {
        sleep 0.05;
        $f = figures();
    }
    return $f;
}

# How much each counter grew from $before to $after.
sub growth {
    my ($before, $after) = @_;
    return { map { $_ => $after->{$_} - ($before->{$_} // 0) } keys %$after };
}

sub client {
    my ($msg) = @_;
    my $ws = Test::Parley::WebSocket->connect(port => $S->port, path => '/ws');
    ok($ws->is_open, 'connected');
    my $hello = $ws->recv_json(timeout => 3);
    is($hello->{type}, 'hello', 'hello');
    return $ws;
}

# --- an idle server -----------------------------------------------------------

# a worker joins the page once it has started: wait for both
figures_when(sub { ($_[0]{workers} // 0) == 2 });
my $r = status();
like($r->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4},
     'Prometheus text format');
like($r->{body}, qr/^# HELP parley_sessions_opened_total .+$/m, 'HELP line');
like($r->{body}, qr/^# TYPE parley_sessions_opened_total counter$/m,
     'TYPE line');
like($r->{body}, qr/^parley_sessions_opened_total\{pid="\d+",inbox="\d+",worker="\d+"\} 0$/m,
     'one line per worker, labelled');
is(figure($r->{body}, 'workers'), 2, 'two workers report');
is(figure($r->{body}, 'rooms'), 0, 'no rooms');
is(figure($r->{body}, 'rooms_capacity'), 7, 'rooms capacity is parley_max_rooms');
ok(figure($r->{body}, 'participants_capacity') > 0, 'participant capacity');
my $lines = () = $r->{body} =~ /^parley_sessions_opened_total\{/mg;
is($lines, 2, 'each counter has a line per worker');

# every line is a comment or "name{labels} value"
my @bad = grep { !/^(#.*|parley_\w+(\{[^}]*\})? \d+)$/ } split /\n/, $r->{body};
is_deeply(\@bad, [], 'every line is well formed');

# --- after some traffic -------------------------------------------------------

my $before = figures();

my $alice = client();
$alice->send_json({ type => 'create', name => 'Alice' });
my $created = $alice->wait_for(sub { $_[0]{type} eq 'created' }, timeout => 3);
ok($created, 'created');

my $bob = client();
$bob->send_json({ type => 'join', room => $created->{room}, name => 'Bob' });
ok($bob->wait_for(sub { $_[0]{type} eq 'joined' }, timeout => 3), 'joined');
ok($alice->wait_for(sub { $_[0]{type} eq 'participant-joined' }, timeout => 3),
   'alice hears of bob');

$bob->send_json({ type => 'nonsense' });
ok($bob->wait_for(sub { $_[0]{type} eq 'error' }, timeout => 3), 'an error');

my $refused = $S->http(path => '/ws');
is($refused->{status}, 426, 'a plain GET on /ws is refused');

# the answers above are sent once the counting is done, but an event may
# still be on its way to the other worker's inbox
my $after = figures_when(sub {
    my $g = growth($before, $_[0]);
    $g->{events_sent_total} > 0 && $g->{events_handled_total} == $g->{events_sent_total};
});
my $g = growth($before, $after);
is($after->{rooms}, 1, 'one room');
is($after->{participants}, 2, 'two participants');
is($g->{sessions_opened_total}, 2, 'two sessions opened');
is($g->{rooms_created_total}, 1, 'one room created');
is($g->{joins_total}, 2, 'two joins');
is($g->{client_errors_total}, 1, 'one client error');
is($g->{handshakes_refused_total}, 1, 'one handshake refused');
is($g->{messages_in_total}, 3, 'three messages in');
ok($g->{messages_out_total} >= 6, 'messages out counted');
ok($g->{events_sent_total} >= 1, 'events sent counted');
is($g->{events_handled_total}, $g->{events_sent_total}, 'every event sent was handled');

# a frame that breaks RFC 6455 (unmasked) is counted as a protocol close
$before = $after;
$bob->send_raw(pack('C*', 0x81, 0x02, 0x7b, 0x7d));
ok($bob->wait_eof(timeout => 3), 'bob is disconnected');
$after = figures_when(sub { $_[0]{participants} == 1 });
$g = growth($before, $after);
is($g->{protocol_closes_total}, 1, 'a protocol close');
is($g->{sessions_closed_total}, 1, 'one session closed');
is($after->{participants}, 1, 'bob is gone');

# --- methods --------------------------------------------------------------------

is($S->http(path => '/status', method => 'POST', body => 'x')->{status}, 405,
   'POST is refused');
my $head = $S->http(path => '/status', method => 'HEAD');
is($head->{status}, 200, 'HEAD answers');
is($head->{body} // '', '', 'HEAD has no body');

$alice->close(1000);
ok($S->stop, 'nginx stops gracefully');

my @unexpected = Test::Parley::ErrorLog::unexpected($S->error_log);
ok(!@unexpected, 'no alert, emerg or crit in the log') or diag(join "\n", @unexpected);

# --- media datagrams nobody takes -----------------------------------------------
#
# Garbage, a STUN request for no peer, and "RTP" from an address no check
# validated: each is dropped and counted, and the log says so once, not
# once per datagram.

$S = Test::Parley::Server->start(
    workers     => 1,
    http_config => "    parley_zone parley 4m;\n"
                 . "    parley_ice_address 127.0.0.1;\n"
                 . "    parley_ice_ports \$TEST_NGINX_ICE_PORTS;\n",
    config      => "    location = /status { parley_status; }\n");

my ($port) = $S->wait_for_log(qr/takes media on 127\.0\.0\.1:(\d+)/, timeout => 3)
    ? $S->error_log =~ /takes media on 127\.0\.0\.1:(\d+)/ : ();
ok($port, 'the worker logs its media port');

my $udp = IO::Socket::INET->new(Proto => 'udp', PeerAddr => '127.0.0.1',
                                PeerPort => $port) or die "udp: $!";
my $stun = pack('nnN', 0x0001, 0, 0x2112A442) . ('x' x 12);   # no USERNAME
my $rtp = pack('CCnNN', 0x80, 96, 1, 0, 1234) . ('p' x 100);
$before = figures();
$udp->send($_) for ('garbage', $stun, $rtp, $rtp, $rtp);

$after = figures_when(sub { $_[0]{udp_in_total} - $before->{udp_in_total} >= 5 });
$g = growth($before, $after);
is($g->{udp_in_total}, 5, 'five datagrams received');
is($g->{udp_dropped_total}, 5, 'five dropped');
ok($S->wait_for_log(qr/media datagrams dropped/, timeout => 3), 'the drops are logged');
my @lines = $S->error_log =~ /media datagrams dropped/g;
is(scalar @lines, 1, 'one log line for the lot');
like($S->error_log, qr/\[info\] .*parley: 1 media datagrams dropped since the last such line; the last from 127\.0\.0\.1:\d+: /,
     'the line says how many, from where and why');

ok($S->stop, 'nginx stops gracefully');
@unexpected = Test::Parley::ErrorLog::unexpected($S->error_log);
ok(!@unexpected, 'no alert, emerg or crit in the log') or diag(join "\n", @unexpected);

done_testing();
