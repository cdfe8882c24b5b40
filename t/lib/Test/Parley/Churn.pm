package Test::Parley::Churn;

# The media churn of t/007-media-churn.t and t/008-media-valgrind.t:
# participants come into a conversation, publish camera and microphone (a
# Chromium offer), subscribe (answered with a Chromium answer) and go, by
# "leave", by closing, or by dropping the connection, many times over.
# Afterwards nothing may be left: no track in the table, no peer
# connection alive, no participant.
#
#   Test::Parley::Churn::run(rounds => 1000);
#   Test::Parley::Churn::run(rounds => 40, valgrind => "$dir/valgrind.log");
#
# With "valgrind", nginx runs as one process under valgrind, and the
# memory check is valgrind's (by the caller) instead of the workers' RSS.

use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use File::Basename qw(dirname);
use Test::Parley::Server;
use Test::Parley::WebSocket;
use Test::Parley::HTTP;

our $Timeout = 3;
my $Fixtures = dirname(__FILE__) . '/../../../../tests/fixtures/sdp';
my $S;

sub start {
    my (%a) = @_;
    my @wrap = $a{valgrind}
        ? ('valgrind', '--leak-check=full', '--keep-debuginfo=yes',
           '--show-leak-kinds=definite', '--errors-for-leak-kinds=definite',
           '--num-callers=30', "--log-file=$a{valgrind}",
           '--suppressions=' . dirname(__FILE__) . '/../../../valgrind.supp')
        : ();
    $S = Test::Parley::Server->start(
    workers => $a{valgrind} ? 1 : 2,
    master => $a{valgrind} ? 0 : 1,
    wrapper => \@wrap,
    start_timeout => 60,
    stop_timeout => 60,
    http_config => <<'EOF',
    parley_zone parley 8m;
    parley_max_participants 500;
    parley_resume_timeout 1s;
    parley_ice_address 127.0.0.1;
    parley_ice_ports $TEST_NGINX_ICE_PORTS;
    parley_max_tracks 16;
EOF
    config => <<'EOF');
    listen 127.0.0.1:$TEST_NGINX_PORT reuseport;
    location /ws { parley_signaling; }
    location = /status { parley_status; }
EOF
}

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or die "$f: $!";
    local $/;
    return <$fh>;
}

my $Offer = slurp("$Fixtures/chromium-av-offer.sdp");
my $Answer = slurp("$Fixtures/chromium-answer-to-sfu-offer.sdp");

sub client {
    my $ws = Test::Parley::WebSocket->connect(port => $S->port, path => '/ws',
                                             timeout => $Timeout);
    die 'connect: ' . ($ws->error // 'failed') . "\n" unless $ws->is_open;
    my $hello = $ws->recv_json(timeout => $Timeout);
    die "no hello\n" unless $hello && $hello->{type} eq 'hello';
    return $ws;
}

# The next message of one of the types, skipping the others (rosters,
# offers of earlier rounds ...); undef after 3 s.
sub next_of {
    my ($ws, @types) = @_;
    my %want = map { $_ => 1 } @types, 'error';
    my $end = time + $Timeout;
    while (time < $end) {
        my $m = $ws->recv_json(timeout => $end - time) // return undef;
        return $m if $want{ $m->{type} // '' };
    }
    return undef;
}

sub status {
    my $r = Test::Parley::HTTP::request(port => $S->port,
        raw => "GET /status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    my %v;
    for (split /\n/, $r->{body} // '') {
        next unless /^(parley_\w+)(?:\{[^}]*\})? (\d+)$/;
        $v{$1} += $2;
    }
    return \%v;
}

# kB of resident memory of the workers
sub workers_rss {
    my $kb = 0;
    my @pids = $S->{master} ? split(' ', `pgrep -P ${\ $S->pid}`) : ($S->pid);
    for my $pid (@pids) {
        open my $fh, '<', "/proc/$pid/status" or next;
        while (<$fh>) { $kb += $1 if /^VmRSS:\s+(\d+)/ }
    }
    return $kb;
}

sub run {
my (%a) = @_;
my $Rounds = $a{rounds};
$Timeout = $a{valgrind} ? 30 : 3;
start(%a);

# the host stays the whole time, publishing, so every newcomer has
# something to subscribe to and every departure renegotiates the host
my $host = client();
$host->send_json({ type => 'create', name => 'Host' });
my $room = next_of($host, 'created')->{room};
$host->send_json({ type => 'publish', sdp => $Offer });
is(next_of($host, 'publish-answer')->{type}, 'publish-answer', 'the host publishes');
$host->send_json({ type => 'subscribe' });

my ($failures, $rss_early) = (0, 0);
my $t0 = time;

for my $round (1 .. $Rounds) {
    my $ws = client();
    $ws->send_json({ type => 'join', room => $room, name => "Guest $round" });
    my $ok = next_of($ws, 'joined');
    $ws->send_json({ type => 'publish', sdp => $Offer });
    $ok &&= next_of($ws, 'publish-answer');
    $ws->send_json({ type => 'subscribe' });
    my $offer = next_of($ws, 'subscribe-offer');
    $ok &&= $offer;
    $ws->send_json({ type => 'subscribe-answer', sdp => $Answer });

    # the host answers what it is offered, as a browser would
    while (my $m = $host->recv_json(timeout => 0)) {
        $host->send_json({ type => 'subscribe-answer', sdp => $Answer })
            if $m->{type} eq 'subscribe-offer';
    }

    if (!$ok || ($ok->{type} // '') eq 'error') {
        $failures++;
        diag("round $round: " . ($ok ? JSON::PP->new->encode($ok) : 'no answer'))
            if $failures <= 5;
    }

    my $how = $round % 3;
    if ($how == 0) {
        $ws->send_json({ type => 'leave' });
        next_of($ws, 'left');
        $ws->close(1000);
    } elsif ($how == 1) {
        $ws->close(1000);
    } else {
        $ws->{sock}->close if $ws->{sock};     # dropped, no close frame
    }

    $rss_early = workers_rss() if $round == int($Rounds / 5);
}

is($failures, 0, "$Rounds participants joined, published and were offered the host's tracks");
note sprintf('%d rounds in %.1f s', $Rounds, time - $t0);

# what is left once the departures are through
my $st;
for (1 .. 50 * $Timeout) {
    $st = status();
    last if ($st->{parley_participants} // -1) == 1 && ($st->{parley_tracks} // -1) == 2;
    sleep 0.1;
}
is($st->{parley_participants}, 1, 'only the host is left in the directory');
is($st->{parley_tracks}, 2, "only the host's two tracks are left in the table");
is($st->{parley_peers_created_total} - $st->{parley_peers_destroyed_total}, 2,
   "only the host's two peer connections are alive");
cmp_ok($st->{parley_tracks_published_total}, '>=', 2 * $Rounds, 'every round published its tracks');
cmp_ok($st->{parley_offers_sent_total}, '>=', 2 * $Rounds, 'every arrival and departure was offered');
is($st->{parley_rtp_unforwarded_total} // 0, 0, 'no track went unforwarded for want of room in the table');

unless ($a{valgrind}) {
    my $rss_late = workers_rss();
    note "workers' RSS: $rss_early kB after a fifth of the rounds, $rss_late kB at the end";
    cmp_ok($rss_late - $rss_early, '<', 8192, "the workers' memory stops growing (under 8 MB more over four fifths of the rounds)");
}

# the host leaves too: nothing at all is left
$host->close(1000);
for (1 .. 50) {
    $st = status();
    last if ($st->{parley_participants} // -1) == 0 && ($st->{parley_tracks} // -1) == 0;
    sleep 0.1;
}
is($st->{parley_participants}, 0, 'no participant is left');
is($st->{parley_tracks}, 0, 'no track is left');
is($st->{parley_peers_created_total} - $st->{parley_peers_destroyed_total}, 0, 'no peer connection is alive');
is($st->{parley_rooms}, 0, 'no conversation is left');

ok($S->stop, 'nginx stops gracefully');
my @bad = grep { /\[(alert|emerg|crit)\]/ } split /\n/, $S->error_log;
ok(!@bad, 'no [alert], [emerg] or [crit] in error.log') or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

}

1;
