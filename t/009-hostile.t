# Hostile clients on the signaling connection (docs/security.md): each test
# is what an attacker does, and what must hold while they do it.
#
#   TEST_NGINX_LOAD_MODULES=build/ngx_http_parley_module.so prove -It/lib t/009-hostile.t

use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX qw(_exit);
use Test::Parley::Server;
use Test::Parley::WebSocket;
use Test::Parley::Util qw(fixture next_of nodelay);

my $Cycles = $ENV{PARLEY_HOSTILE_CYCLES} // 10000;
my $Offer = fixture('chromium-av-offer.sdp');

my $S = Test::Parley::Server->start(
    workers => 1,
    start_timeout => 30,
    http_config => <<'EOF',
    parley_zone parley 8m;
    parley_ice_address 127.0.0.1;
    parley_ice_ports $TEST_NGINX_ICE_PORTS;
EOF
    config => <<'EOF');
    location /ws { parley_signaling; }
    location /unlimited {
        parley_signaling;
        parley_message_rate off;
    }
    location = /status { parley_status; }
EOF

sub client {
    my (%a) = @_;
    my $ws = Test::Parley::WebSocket->connect(port => $S->port,
                                             path => $a{path} // '/ws');
    die 'connect: ' . ($ws->error // 'failed') . "\n" unless $ws->is_open;
    nodelay($ws);
    my $hello = $ws->recv_json;
    die "no hello\n" unless $hello && $hello->{type} eq 'hello';
    return $ws;
}

# The type of the next text message, read without decoding the JSON (the
# pure-Perl decoder would cost more than the server's work): "" on timeout.
sub next_type {
    my ($ws) = @_;
    while (my $m = $ws->recv_message(timeout => 5)) {
        return '' unless $m->{type} eq 'text' || $m->{type} eq 'ping'
                         || $m->{type} eq 'pong';
        return $1 if $m->{type} eq 'text' && $m->{payload} =~ /^\{"type":"([^"]+)"/;
    }
    return '';
}

sub frame { Test::Parley::WebSocket::encode_frame(opcode => 1, payload => $_[0]) }

sub status { Test::Parley::Util::status($S) }

sub workers_rss {
    my $kb = 0;
    for my $pid (split ' ', `pgrep -P ${\ $S->pid}`) {
        open my $fh, '<', "/proc/$pid/status" or next;
        while (<$fh>) { $kb += $1 if /^VmRSS:\s+(\d+)/ }
    }
    return $kb;
}

# A child process that writes WebSocket frames of $text as fast as the
# socket takes them, for $seconds; returns its pid.
sub flooder {
    my ($path, $text, $seconds) = @_;
    my $pid = fork // die "fork: $!";
    return $pid if $pid;
    my $ws = client(path => $path);
    my $batch = join '', map {
        Test::Parley::WebSocket::encode_frame(opcode => 1, payload => $text)
    } 1 .. 256;
    my $end = time + $seconds;
    local $SIG{PIPE} = 'IGNORE';
    while (time < $end) {
        last unless defined syswrite($ws->socket, $batch);
    }
    _exit(0);
}


# --- a reading flood cannot hold the worker's loop -------------------------
#
# With no message rate limit, a client writes well-formed messages that need
# no answer as fast as it can; another client on the same (only) worker pings
# every 100 ms. Each read event takes at most a budget of messages, so the
# pinger's turn comes every loop iteration.

{
    my $before = status();
    my $candidate = '{"type":"candidate","candidate":"candidate:'
                    . ('x' x 1000) . '"}';
    my @pids = map { flooder('/unlimited', $candidate, 3) } 1 .. 3;
    my $pinger = client();
    sleep 0.3;
    my ($n, $late, $worst) = (0, 0, 0);
    my $end = time + 2.5;
    while (time < $end) {
        my $t0 = time;
        $pinger->send_json({ type => 'ping', ref => $n });
        my $m = $pinger->wait_for(sub { $_[0]{type} eq 'pong' }, timeout => 5);
        my $dt = time - $t0;
        $worst = $dt if $dt > $worst;
        $late++ if !$m || $dt > 1;
        $n++;
        sleep 0.1;
    }
    waitpid $_, 0 for @pids;
    my $after = status();
    cmp_ok($n, '>=', 5, "flood: the pinger pinged $n times meanwhile");
    is($late, 0, sprintf('flood: every pong came within 1 s (worst %.3f s)', $worst));
    cmp_ok($after->{parley_reads_paused_total} - ($before->{parley_reads_paused_total} // 0),
           '>', 0, 'flood: the read budget cut the flooder\'s read events short');
    $pinger->close(1000);
}


# --- past parley_message_rate: refused, then closed -------------------------

{
    my $before = status();
    my $ws = client();
    my $frames = join '', map {
        Test::Parley::WebSocket::encode_frame(opcode => 1,
                                             payload => '{"type":"ping"}')
    } 1 .. 1000;
    $ws->send_raw($frames);
    my ($pongs, $limited, $close) = (0, 0, undef);
    while (my $m = $ws->recv_message(timeout => 5)) {
        if ($m->{type} eq 'close') { $close = $m->{code}; last }
        last if $m->{type} eq 'eof';
        next unless $m->{type} eq 'text';
        $pongs++ if $m->{payload} =~ /"pong"/;
        $limited++ if $m->{payload} =~ /"rate_limited"/;
    }
    my $after = status();
    cmp_ok($pongs, '>=', 200, "rate: the burst is answered ($pongs pongs)");
    cmp_ok($pongs, '<', 1000, 'rate: ... but not a thousand messages at once');
    is($limited, 1, 'rate: one rate_limited error, not one per message');
    is($close, 1008, 'rate: a client that keeps going is closed with 1008');
    is($after->{parley_flood_closes_total} - ($before->{parley_flood_closes_total} // 0),
       1, 'rate: counted in parley_flood_closes_total');
    cmp_ok($after->{parley_messages_limited_total}
           - ($before->{parley_messages_limited_total} // 0), '>', 200,
           'rate: refused messages counted in parley_messages_limited_total');

    # a client that keeps to the rate is never refused
    my $calm = client();
    my $ok = 1;
    for my $i (1 .. 30) {
        $calm->send_json({ type => 'ping', ref => $i });
        my $m = next_of($calm, 5, 'pong');
        $ok = 0 unless $m && $m->{type} eq 'pong';
        sleep 0.025;
    }
    ok($ok, 'rate: 30 pings at 40 a second are all answered');
    $calm->close(1000);
}


# --- memory: what one connection does over and over returns what it took ---
#
# A publish answer, a peer connection record (about 120 KB), its feedback
# state and NACK lists were taken from the request's pool and kept until the
# WebSocket closed: 2,000 publishes grew a worker by 15 MB.

{
    my $ws = client(path => '/unlimited');
    $ws->send_json({ type => 'create', name => 'Mallory' });
    my $created = next_of($ws, 5, 'created');
    is($created && $created->{type}, 'created', 'memory: a conversation');

    my $publish = frame(JSON::PP->new->canonical->encode(
                            { type => 'publish', sdp => $Offer }));
    my ($leave, $create, $subscribe) = map { frame($_) }
        '{"type":"leave"}', '{"type":"create","name":"Mallory"}',
        '{"type":"subscribe"}';

    my ($fail, $rss0, $t0) = (0, 0, time);
    for my $i (1 .. $Cycles) {
        $ws->send_raw($publish);
        $fail++ unless next_type($ws) eq 'publish-answer';
        $rss0 = workers_rss() if $i == int($Cycles / 10);
        last if $fail > 5;
    }
    my $rss1 = workers_rss();
    is($fail, 0, "memory: $Cycles publishes on one connection answered");
    note sprintf('%d publishes in %.1f s; RSS %d kB after a tenth, %d kB at the end',
                 $Cycles, time - $t0, $rss0, $rss1);
    cmp_ok($rss1 - $rss0, '<', 4096,
           'memory: the worker does not grow with publishes (under 4 MB)');

    ($fail, $t0) = (0, time);
    for my $i (1 .. $Cycles) {
        # the answers come in order: the four go at once
        $ws->send_raw($leave . $create . $publish . $subscribe);
        my $got = join ' ', map { next_type($ws) } 1 .. 3;
        $fail++ unless $got eq 'left created publish-answer';
        diag("cycle $i: $got") if $got ne 'left created publish-answer' && $fail < 3;
        $rss0 = workers_rss() if $i == int($Cycles / 10);
        last if $fail > 5;
    }
    # the last subscribe is through once a ping is answered
    $ws->send_json({ type => 'ping' });
    next_of($ws, 5, 'pong');
    $rss1 = workers_rss();
    is($fail, 0, "memory: $Cycles leave/create/publish/subscribe cycles");
    note sprintf('%d cycles in %.1f s; RSS %d kB after a tenth, %d kB at the end',
                 $Cycles, time - $t0, $rss0, $rss1);
    cmp_ok($rss1 - $rss0, '<', 4096,
           'memory: the worker does not grow with rejoins (under 4 MB)');
    my $st = status();
    is($st->{parley_peers_created_total} - $st->{parley_peers_destroyed_total}, 1,
       'memory: one peer connection is alive, the last one');
    $ws->close(1000);
}


# --- the log never holds a conversation's id ---------------------------------

{
    my $mark = $S->error_log_mark;
    my $ws = client();
    $ws->send_json({ type => 'create', name => 'Alice' });
    my $room = next_of($ws, 5, 'created')->{room};
    $ws->send_json({ type => 'close' });
    next_of($ws, 5, 'closed');
    $ws->close(1000);
    my $log = $S->error_log($mark);
    like($log, qr/conversation r:[0-9a-f]{12} created/, 'log: a conversation is named by its tag');
    unlike($log, qr/\Q$room\E/, 'log: its id, the link\'s secret, is nowhere in the log');
}


ok($S->stop, 'nginx stops gracefully');
my @bad = grep { /\[(alert|emerg|crit)\]/ } split /\n/, $S->error_log;
ok(!@bad, 'no [alert], [emerg] or [crit] in error.log') or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

done_testing();
