# What only a test hook can make happen (the module built for the tests
# has them: make builds it into build/hooks/, and make t names it in
# TEST_PARLEY_HOOKS_MODULE; see docs/security.md):
#
# - a worker killed while it holds a shared lock stalls nobody: the others
#   (and the worker that replaces it) carry on within the reaper's
#   interval;
# - when the system's random generator fails, what needed random bytes
#   fails too, with an error, instead of going on with guessable ones;
# - when a worker's inbox overflows and an event is lost, its subscribers
#   still learn of the tracks the lost event announced.
#
#   TEST_PARLEY_HOOKS_MODULE=build/hooks/ngx_http_parley_module.so \
#       prove -It/lib t/012-locks.t

use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use Test::Parley::Server;
use Test::Parley::Clients;
use Test::Parley::WebSocket;
use JSON::PP ();
use Test::Parley::Util qw(fixture next_of nodelay);

my $Hooks = $ENV{TEST_PARLEY_HOOKS_MODULE};
plan skip_all => 'TEST_PARLEY_HOOKS_MODULE names no module built with the '
               . 'test hooks (make t builds it)'
    unless $Hooks && -f $Hooks;

my $Offer = fixture('chromium-av-offer.sdp');

my $S = Test::Parley::Server->start(
    workers => 2,
    load_modules => $Hooks,
    start_timeout => 30,
    http_config => <<'EOF',
    parley_zone parley 8m;
    parley_ice_address 127.0.0.1;
    parley_ice_ports $TEST_NGINX_ICE_PORTS;
EOF
    config => <<'EOF');
    listen 127.0.0.1:$TEST_NGINX_PORT reuseport;
    location /ws { parley_signaling; }
EOF

my $Pool = Test::Parley::Clients->new(server => $S, timeout => 5);

# A connection on worker $w.
sub client {
    my ($w) = @_;
    my $ws = $Pool->on($w, "on $w")->{ws};
    nodelay($ws);
    return $ws;
}

# Worker 0 dies inside the lock; returns once the master has replaced it.
sub die_in {
    my ($lock) = @_;
    my @before = $S->worker_pids;
    my $victim = client(0);
    $Pool->drop_spares;
    $victim->send_json({ type => 'test-die-in-lock', lock => $lock });
    ok($victim->wait_eof(timeout => 5), "$lock: worker 0 died holding the lock");
    my $deadline = time + 10;
    my @after;
    while (time < $deadline) {
        @after = $S->worker_pids;
        last if @after == 2 && grep { my $p = $_; !grep { $_ == $p } @before } @after;
        sleep 0.05;
    }
    is(scalar @after, 2, "$lock: the master replaced it");
}

my $other = client(1);
$other->send_json({ type => 'create', name => 'Host' });
my $room = next_of($other, 5, 'created')->{room};


# the directory's lock: a create on the other worker
die_in('directory');
{
    my $ws = client(1);
    my $t0 = time;
    $ws->send_json({ type => 'create', name => 'After' });
    my $m = next_of($ws, 5, 'created');
    is($m && $m->{type}, 'created', 'directory: the other worker still creates');
    note sprintf('directory: answered in %.3f s', time - $t0);
    $ws->close(1000);
}

# the other worker's inbox lock, taken as a producer: events into it
die_in('inbox');
{
    my $ws = client(1);
    $ws->send_json({ type => 'join', room => $room, name => 'Guest' });
    my $m = next_of($ws, 5, 'joined');
    is($m && $m->{type}, 'joined', 'inbox: a join on the other worker');
    $m = next_of($other, 5, 'participant-joined');
    is($m && $m->{type}, 'participant-joined', 'inbox: ... is announced through its inbox');
    $ws->close(1000);
}

# the track table's lock: a publish on the other worker
die_in('tracks');
{
    $other->send_json({ type => 'publish', sdp => $Offer });
    my $m = next_of($other, 5, 'publish-answer');
    is($m && $m->{type}, 'publish-answer', 'tracks: the other worker still publishes');
}

# and the worker that replaced the dead one works too
{
    my $ws = client(0);
    $ws->send_json({ type => 'join', room => $room, name => 'Late' });
    my $m = next_of($ws, 5, 'joined');
    is($m && $m->{type}, 'joined', 'the new worker 0 joins a room of worker 1');
    $ws->send_json({ type => 'publish', sdp => $Offer });
    $m = next_of($ws, 5, 'publish-answer');
    is($m && $m->{type}, 'publish-answer', 'the new worker 0 publishes');
    $ws->close(1000);
}
$other->close(1000);


# --- no random bytes: no conversation, no connection, no resume -----------------

{
    my $ws = client(1);
    my @refused;
    for my $what (['create', { type => 'create', name => 'X' }, 'created'],
                  ['join', { type => 'join', room => $room, name => 'Y' },
                   'joined'])
    {
        my ($name, $msg, $answer) = @$what;
        $ws->send_json({ type => 'test-no-random', count => 1 });
        next_of($ws, 5, 'pong');
        $ws->send_json($msg);
        my $m = next_of($ws, 5, $answer);
        is($m && $m->{code}, 'internal', "no random bytes: $name is refused");
    }

    # with the generator back, the same works
    $ws->send_json({ type => 'join', room => $room, name => 'Y' });
    my $m = next_of($ws, 5, 'joined');
    is($m && $m->{type}, 'joined', 'random bytes again: the join goes through');

    $ws->send_json({ type => 'test-no-random', count => 1 });
    next_of($ws, 5, 'pong');
    $ws->send_json({ type => 'subscribe' });
    $m = next_of($ws, 5, 'subscribe-offer');
    is($m && $m->{code}, 'internal', 'no random bytes: no subscribe connection');
    like($S->error_log, qr/RAND_bytes\(\) failed/, '... and the log says why');
    $ws->close(1000);
}


# --- an inbox overflows: the track change it lost still reaches subscribers ---

{
    my $sub = client(1);
    $sub->send_json({ type => 'create', name => 'Sub' });
    my $r = next_of($sub, 5, 'created')->{room};
    $sub->send_json({ type => 'subscribe' });

    my $pub = client(0);
    $pub->send_json({ type => 'join', room => $r, name => 'Pub' });
    next_of($pub, 5, 'joined');
    next_of($sub, 5, 'participant-joined');

    # one read event: worker 1's inbox filled, then the publish whose
    # "tracks changed" event finds it full and is lost
    my $json = JSON::PP->new->canonical;
    $pub->send_raw(join '', map {
        Test::Parley::WebSocket::encode_frame(opcode => 1,
                                              payload => $json->encode($_))
    } { type => 'test-fill-inboxes' }, { type => 'publish', sdp => $Offer });
    my $m = next_of($pub, 5, 'publish-answer');
    is($m && $m->{type}, 'publish-answer', 'overflow: the publish is answered');

    $m = next_of($sub, 5, 'subscribe-offer');
    is($m && scalar @{ $m->{tracks} // [] }, 2,
       'overflow: the subscriber is offered the tracks all the same');
    like($S->error_log, qr/inbox overflowed, resending rosters and tracks/,
         '... after the worker noticed the overflow');
    $_->close(1000) for $sub, $pub;
}

ok($S->stop, 'nginx stops gracefully');
# the master's alert for each worker killed on purpose, and the failures of
# the random generator the test caused, are expected
my @bad = grep { /\[(alert|emerg|crit)\]/ && !/exited on signal 9/
                 && !/RAND_bytes\(\) failed/ }
          split /\n/, $S->error_log;
ok(!@bad, 'no other [alert], [emerg] or [crit] in error.log')
    or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

done_testing();
