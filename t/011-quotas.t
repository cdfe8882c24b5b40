# Quotas (docs/security.md): past each cap a clear error for whoever asks
# too much, and nothing taken from anybody else.
#
#   parley_max_participant_tracks  tracks one participant publishes
#   parley_max_room_tracks         tracks of one conversation
#   parley_max_tracks              tracks of the whole server
#   limit_conn / limit_req         nginx's own, per address, in front of
#                                  the signaling location
#
#   TEST_NGINX_LOAD_MODULES=build/ngx_http_parley_module.so prove -It/lib t/011-quotas.t

use strict;
use warnings;
use Test::More;
use Test::Parley::Server;
use Test::Parley::WebSocket;
use Test::Parley::Util qw(fixture next_of nodelay);

my $Av = fixture('chromium-av-offer.sdp');            # 2 tracks
my $Screen = fixture('chromium-screen-offer.sdp');    # 3 tracks
my $Answer = fixture('chromium-answer-to-sfu-offer.sdp');

my $S = Test::Parley::Server->start(
    workers => 2,
    start_timeout => 30,
    http_config => <<'EOF',
    parley_zone parley 8m;
    parley_ice_address 127.0.0.1;
    parley_ice_ports $TEST_NGINX_ICE_PORTS;
    parley_max_tracks 8;
    parley_max_room_tracks 4;
    parley_max_participant_tracks 2;

    limit_conn_zone $binary_remote_addr zone=perip:1m;
    limit_req_zone $binary_remote_addr zone=handshakes:1m rate=1r/m;
EOF
    config => <<'EOF');
    listen 127.0.0.1:$TEST_NGINX_PORT reuseport;
    location /ws { parley_signaling; }
    location /limited {
        parley_signaling;
        limit_conn perip 2;
    }
    location /paced {
        parley_signaling;
        limit_req zone=handshakes burst=1 nodelay;
    }
    location = /status { parley_status; }
EOF

sub client {
    my ($path) = @_;
    my $ws = Test::Parley::WebSocket->connect(port => $S->port,
                                             path => $path // '/ws');
    return $ws unless $ws->is_open;
    nodelay($ws);
    my $hello = $ws->recv_json;
    die "no hello\n" unless $hello && $hello->{type} eq 'hello';
    return $ws;
}

sub enter {
    my ($ws, %m) = @_;
    $ws->send_json({ type => $m{room} ? 'join' : 'create', name => 'X', %m });
    my $r = next_of($ws, 5, 'created', 'joined');
    die 'no room: ' . ($r ? $r->{code} : 'nothing') . "\n"
        unless $r && $r->{type} ne 'error';
    return $r->{room};
}

sub publish {
    my ($ws, $sdp) = @_;
    $ws->send_json({ type => 'publish', sdp => $sdp });
    return next_of($ws, 5, 'publish-answer');
}

sub status { Test::Parley::Util::status($S) }


# --- tracks: per participant, per conversation, per server --------------------

my $a = client();
my $room = enter($a);

my $m = publish($a, $Screen);
is($m && $m->{code}, 'too_many_tracks', 'participant: three tracks past a cap of two');
is($m && $m->{field}, 'sdp', '... the offer is named');
is(status()->{parley_tracks}, 0, '... and nothing of it was published');

$m = publish($a, $Av);
is($m && $m->{type}, 'publish-answer', 'participant: two tracks are answered');

my $b = client();
enter($b, room => $room);
$m = publish($b, $Av);
is($m && $m->{type}, 'publish-answer', 'conversation: the next two reach its cap of four');

my $c = client();
enter($c, room => $room);
$m = publish($c, $Av);
is($m && $m->{code}, 'too_many_tracks', 'conversation: two more are refused');

# someone else's conversation still publishes, up to the server's cap
my @others = map { client() } 1 .. 3;
enter($_) for @others;
is(publish($others[0], $Av)->{type}, 'publish-answer', 'server: another conversation publishes (6 of 8)');
is(publish($others[1], $Av)->{type}, 'publish-answer', 'server: and another (8 of 8)');
$m = publish($others[2], $Av);
is($m && $m->{code}, 'server_full', 'server: past parley_max_tracks, server_full');
is(status()->{parley_tracks}, 8, 'server: eight tracks in the table, no more');

# those who were refused take nothing from the others: a subscriber of the
# first conversation is offered its four tracks
$c->send_json({ type => 'subscribe' });
$m = next_of($c, 5, 'subscribe-offer');
is($m && scalar @{ $m->{tracks} }, 4, 'the refused participant still receives the four tracks');
$c->send_json({ type => 'subscribe-answer', sdp => $Answer });

# a track that goes makes room
$b->send_json({ type => 'leave' });
next_of($b, 5, 'left');
$m = publish($c, $Av);
is($m && $m->{type}, 'publish-answer', 'conversation: once two went, two more are answered');

$_->close(1000) for $a, $b, $c, @others;


# --- nginx's limit_conn in front of the signaling location ------------------------

my @kept = map { client('/limited') } 1 .. 2;
ok($_->is_open, 'limit_conn: a WebSocket within the limit') for @kept;
my $third = client('/limited');
ok(!$third->is_open, 'limit_conn: one past it is refused');
is($third->handshake_status, 503, '... with 503');

$kept[0]->send_json({ type => 'ping' });
$m = next_of($kept[0], 5, 'pong');
is($m && $m->{type}, 'pong', 'limit_conn: those open are untouched');

$kept[1]->close(1000);
my $again;
for (1 .. 50) {
    $again = client('/limited');
    last if $again->is_open;
    select undef, undef, undef, 0.1;
}
ok($again->is_open, 'limit_conn: a closed one frees its place');
$_->close(1000) for $kept[0], $again;


# --- nginx's limit_req: new handshakes a minute from one address --------------

my @paced = map { client('/paced') } 1 .. 3;
ok($paced[0]->is_open && $paced[1]->is_open, 'limit_req: the rate and its burst pass');
ok(!$paced[2]->is_open, 'limit_req: one more is refused');
is($paced[2]->handshake_status, 503, '... with 503');
$paced[1]->send_json({ type => 'ping' });
$m = next_of($paced[1], 5, 'pong');
is($m && $m->{type}, 'pong', 'limit_req: those open are untouched');
$_->close(1000) for grep { $_->is_open } @paced;


ok($S->stop, 'nginx stops gracefully');
my @bad = grep { /\[(alert|emerg|crit)\]/ } split /\n/, $S->error_log;
ok(!@bad, 'no [alert], [emerg] or [crit] in error.log') or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

done_testing();
