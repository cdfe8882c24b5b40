# Participants come back by themselves (docs/protocol.md, resume): a
# dropped connection, a worker killed or shut down by a reload, is a short
# absence ("participant-away", "participant-back"), not a leave and a join;
# a resume secret works once, only for its participant, only in time.
#
#   TEST_NGINX_LOAD_MODULES=build/ngx_http_parley_module.so prove -It/lib t/010-resume.t

use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use Test::Parley::Server;
use Test::Parley::Clients;
use Test::Parley::Util qw(next_of nodelay);

my $Grace = 3;      # parley_resume_timeout, seconds

my $S = Test::Parley::Server->start(
    workers => 2,
    start_timeout => 30,
    http_config => <<"EOF",
    parley_zone parley 8m;
    parley_resume_timeout ${Grace}s;
    parley_ice_address 127.0.0.1;
    parley_ice_ports \$TEST_NGINX_ICE_PORTS;
EOF
    config => <<'EOF');
    listen 127.0.0.1:$TEST_NGINX_PORT reuseport;
    location /ws { parley_signaling; }
    location = /status { parley_status; }
EOF

my $Pool = Test::Parley::Clients->new(server => $S, timeout => 5);

# A connection, on worker $w if given; { ws, worker, name }.
sub client {
    my ($name, $w) = @_;
    my $c = defined $w ? $Pool->on($w, $name) : $Pool->any($name);
    nodelay($c->{ws});
    return $c;
}

sub enter {
    my ($c, $type, %m) = @_;
    $c->{ws}->send_json({ type => $type, name => $c->{name}, %m });
    my $m = next_of($c->{ws}, 5, 'created', 'joined');
    die "$c->{name}: no $type: " . ($m ? $m->{code} : 'nothing') . "\n"
        unless $m && $m->{type} ne 'error';
    $c->{id} = $m->{you}{id};
    $c->{room} = $m->{room};
    $c->{secret} = $m->{resume};
    return $m;
}

# Reconnects $c (on worker $w if given) and resumes; the answer.
sub resume {
    my ($c, $w, %over) = @_;
    my $n = client($c->{name}, $w);
    $c->{ws} = $n->{ws};
    $c->{worker} = $n->{worker};
    $c->{ws}->send_json({ type => 'resume', room => $c->{room},
                          participant => $c->{id}, secret => $c->{secret},
                          %over });
    my $m = next_of($c->{ws}, 5, 'resumed');
    $c->{secret} = $m->{resume} if $m && $m->{type} eq 'resumed';
    return $m;
}

sub status { Test::Parley::Util::status($S) }

# Alice's conversation with Bob in it, each where the kernel put them (on
# workers $wa and $wb if given), and Alice told of Bob.
sub pair {
    my ($wa, $wb) = @_;
    my $alice = client('Alice', $wa);
    my $bob = client('Bob', $wb);
    enter($alice, 'create');
    enter($bob, 'join', room => $alice->{room});
    next_of($alice->{ws}, 3, 'participant-joined');
    return ($alice, $bob);
}

sub ids { join ',', map { $_->{id} . ($_->{away} ? '~' : '') } @{ $_[0] } }


# --- a dropped connection resumes its place, on either worker ---------------

for my $w (0, 1) {
    my $alice = client('Alice', 0);
    my $bob = client('Bob', 1 - $w);
    enter($alice, 'create');
    my $joined = enter($bob, 'join', room => $alice->{room});
    next_of($alice->{ws}, 3, 'participant-joined');
    my $before = ids($joined->{participants});

    $bob->{ws}->disconnect;
    my $m = next_of($alice->{ws}, 5, 'participant-away', 'participant-left');
    is($m && $m->{type}, 'participant-away',
       "worker $w: a dropped connection is away, not gone");
    is($m && $m->{id}, $bob->{id}, "worker $w: ... the right one");
    is($m && $m->{reason}, 'disconnected', "worker $w: ... reason disconnected");

    my $old = $bob->{secret};
    $m = resume($bob, $w);
    is($m && $m->{type}, 'resumed', "worker $w: the participant resumes");
    is($m && $m->{you}{id}, $bob->{id}, "worker $w: same id");
    is($m && $m->{you}{role}, 'participant', "worker $w: same role");
    is($m && ids($m->{participants}), $before, "worker $w: same place in the roster");
    isnt($bob->{secret}, $old, "worker $w: a new secret");

    $m = next_of($alice->{ws}, 5, 'participant-back', 'participant-left');
    is($m && $m->{type}, 'participant-back', "worker $w: the others see it back");
    is($m && $m->{participant}{id}, $bob->{id}, "worker $w: ... the right one");

    # the old secret was good once
    my $eve = client('Eve');
    $eve->{ws}->send_json({ type => 'resume', room => $alice->{room},
                            participant => $bob->{id}, secret => $old });
    $m = next_of($eve->{ws}, 3, 'resumed');
    is($m && $m->{code}, 'resume_refused', "worker $w: a used secret is refused");

    $alice->{ws}->send_json({ type => 'roster' });
    $m = next_of($alice->{ws}, 3, 'roster');
    is($m && ids($m->{participants}), $before, "worker $w: nobody away any more");

    $alice->{ws}->close(1000);
    $bob->{ws}->close(1000);
    $eve->{ws}->close(1000);
}


# --- a secret is only its participant's, and a room's ------------------------

{
    my $alice = client('Alice');
    my $bob = client('Bob');
    enter($alice, 'create');
    enter($bob, 'join', room => $alice->{room});
    $bob->{ws}->disconnect;
    next_of($alice->{ws}, 5, 'participant-away');

    my $mallory = client('Mallory');
    my @tries = (
        [ "another participant's id", participant => $alice->{id} ],
        [ 'a made-up secret', secret => 'AAAAAAAAAAAAAAAAAAAAAA' ],
        [ 'a secret of the wrong length', secret => 'AAAA' ],
        [ 'an unknown participant', participant => '999999' ],
    );
    for my $t (@tries) {
        my ($what, %over) = @$t;
        $mallory->{ws}->send_json({ type => 'resume', room => $alice->{room},
                                    participant => $bob->{id},
                                    secret => $bob->{secret}, %over });
        my $m = next_of($mallory->{ws}, 3, 'resumed');
        is($m && $m->{code}, 'resume_refused', "refused: $what");
    }
    $mallory->{ws}->send_json({ type => 'resume', room => 'nosuchroom',
                                participant => $bob->{id},
                                secret => $bob->{secret} });
    my $m = next_of($mallory->{ws}, 3, 'resumed');
    is($m && $m->{code}, 'room_not_found', 'refused: another room');
    $mallory->{ws}->send_json({ type => 'resume', room => $alice->{room},
                                participant => 'x17', secret => $bob->{secret} });
    $m = next_of($mallory->{ws}, 3, 'resumed');
    is($m && $m->{code}, 'invalid_value', 'refused: a participant that is no id');

    # the refusals took nothing: the real one still comes back
    $m = resume($bob);
    is($m && $m->{type}, 'resumed', 'after all that, the participant resumes');
    unlike($S->error_log, qr/\Q$bob->{secret}\E/, 'no resume secret in the log');

    # in a room: no resume
    $bob->{ws}->send_json({ type => 'resume', room => $alice->{room},
                            participant => $bob->{id}, secret => $bob->{secret} });
    $m = next_of($bob->{ws}, 3, 'resumed');
    is($m && $m->{code}, 'already_in_room', 'a participant in a room cannot resume');

    $_->{ws}->close(1000) for $alice, $bob, $mallory;
}


# --- a resume takes over a connection the server still holds ------------------

{
    my ($alice, $bob) = pair(0, 1);

    my $stale = $bob->{ws};
    my $m = resume($bob, 0);
    is($m && $m->{type}, 'resumed', 'take-over: resumed while the old connection lives');
    my $f = $stale->recv_message(timeout => 5);
    $f = $stale->recv_message(timeout => 5) while $f && $f->{type} eq 'text';
    is($f && $f->{type}, 'close', 'take-over: the old connection is closed');
    is($f && $f->{code}, 4001, 'take-over: ... with 4001');
    $m = $alice->{ws}->recv_json(timeout => 0.5);
    ok(!$m || $m->{type} !~ /^participant-(left|away)/,
       'take-over: the others see no departure')
        or diag(JSON::PP->new->encode($m));

    $bob->{ws}->send_json({ type => 'roster' });
    $m = next_of($bob->{ws}, 3, 'roster');
    is($m && ids($m->{participants}), "$alice->{id},$bob->{id}",
       'take-over: the new connection is in the room');

    $_->{ws}->close(1000) for $alice, $bob;
}


# --- the organiser: the room waits for them, and ends when they do not come --

{
    my ($alice, $bob) = pair();

    $alice->{ws}->disconnect;
    my $m = next_of($bob->{ws}, 5, 'participant-away', 'closed');
    is($m && $m->{type}, 'participant-away', 'organiser drop: the room stays open');

    $m = resume($alice);
    is($m && $m->{you}{role}, 'organiser', 'organiser drop: back as the organiser');
    $m = next_of($bob->{ws}, 5, 'participant-back', 'closed');
    is($m && $m->{type}, 'participant-back', 'organiser drop: the others see them back');

    $alice->{ws}->disconnect;
    my $t0 = time;
    $m = next_of($bob->{ws}, 5, 'participant-away', 'closed');
    is($m && $m->{type}, 'participant-away', 'organiser drop again: away');
    $m = next_of($bob->{ws}, $Grace + 5, 'closed');
    is($m && $m->{type}, 'closed', 'organiser gone for good: the room closes for all');
    is($m && $m->{reason}, 'organiser_left', '... reason organiser_left');
    cmp_ok(time - $t0, '>=', $Grace - 0.5, '... once the grace period ran out');

    $m = resume($alice);
    is($m && $m->{code}, 'room_not_found', 'organiser gone for good: too late to resume');
    $_->{ws}->close(1000) for $alice, $bob;
}


# --- an away participant who never comes back leaves ----------------------------

{
    my ($alice, $bob) = pair();
    my $before = status();

    $bob->{ws}->disconnect;
    next_of($alice->{ws}, 5, 'participant-away');
    my $m = next_of($alice->{ws}, $Grace + 5, 'participant-left');
    is($m && $m->{type}, 'participant-left', 'expiry: an away participant leaves in the end');
    is($m && $m->{reason}, 'disconnected', '... reason disconnected');
    my $after = status();
    is(($after->{parley_away_expired_total} // 0) - ($before->{parley_away_expired_total} // 0),
       1, '... counted in parley_away_expired_total');
    is($after->{parley_participants_away}, 0, 'nobody is away any more');

    $m = resume($bob);
    is($m && $m->{code}, 'resume_refused', 'expiry: too late to resume');
    $_->{ws}->close(1000) for $alice, $bob;
}


# --- a worker killed: its participants are away, and resume on the other ---

{
    my $alice = client('Alice', 0);
    my $bob = client('Bob', 1);
    my $carol = client('Carol', 1);
    enter($alice, 'create');
    enter($bob, 'join', room => $alice->{room});
    enter($carol, 'join', room => $alice->{room});
    next_of($alice->{ws}, 3, 'participant-joined');
    next_of($alice->{ws}, 3, 'participant-joined');

    # the worker of bob and carol, not alice's
    my $w1 = $Pool->owner_pid($bob);
    ok($w1, 'worker death: found the worker of bob and carol');
    $Pool->drop_spares;
    ok(scalar $S->kill_worker($w1, 'KILL'), 'worker death: killed and respawned');

    my %away;
    for (1 .. 2) {
        my $m = next_of($alice->{ws}, 5, 'participant-away', 'participant-left', 'closed');
        $away{ $m->{id} } = $m->{reason} if $m && $m->{type} eq 'participant-away';
    }
    is_deeply(\%away, { $bob->{id} => 'worker_died', $carol->{id} => 'worker_died' },
              'worker death: both are away, reason worker_died');

    for my $c ($bob, $carol) {
        my $m = resume($c);
        is($m && $m->{type}, 'resumed', "worker death: $c->{name} resumes");
    }
    my %back;
    for (1 .. 2) {
        my $m = next_of($alice->{ws}, 5, 'participant-back');
        $back{ $m->{participant}{id} } = 1 if $m && $m->{type} eq 'participant-back';
    }
    is(join(',', sort keys %back), join(',', sort $bob->{id}, $carol->{id}),
       'worker death: alice sees both back');
    $_->{ws}->close(1000) for $alice, $bob, $carol;
}

# --- reloads: the old workers send everyone on, and go --------------------------
#
# After each reload the old workers close their sessions with 1001 within
# a second or so; the clients reconnect to the new workers and resume. No
# one ever leaves, and once the old workers are gone their inbox slots and
# UDP ports are free again. Ten reloads here (PARLEY_RELOADS); fifty, with
# media, in tests/browser/resume.test.mjs.

sub media_ports {
    my ($min, $max) = split /-/, $ENV{TEST_NGINX_ICE_PORTS};
    my %p;
    open my $fh, '<', '/proc/net/udp' or return 0;
    while (<$fh>) {
        my @f = split;
        next unless @f > 2 && $f[1] =~ /^0100007F:([0-9A-F]{4})$/;
        my $port = hex $1;
        $p{$port} = 1 if $port >= $min && $port <= $max;
    }
    return scalar keys %p;
}

{
    my $reloads = $ENV{PARLEY_RELOADS} // 10;
    my @c = map { client($_) } qw(Alice Bob Carol);
    enter($c[0], 'create');
    enter($_, 'join', room => $c[0]{room}) for @c[1, 2];

    my ($moved, $resumed, $left) = (0, 0, 0);
    $Pool->drop_spares;
    for my $round (1 .. $reloads) {
        my @new = $S->reload;
        unless (@new) { fail("reload $round"); last }
        for my $c (@c) {
            # the 1001 comes; whatever came before it is skipped
            my $f;
            do { $f = $c->{ws}->recv_message(timeout => 5) }
                while $f && $f->{type} eq 'text'
                      && ($left += ($f->{payload} =~ /participant-left|"closed"/ ? 1 : 0), 1);
            $moved++ if $f && $f->{type} eq 'close' && $f->{code} == 1001;
            my $m = resume($c);
            $resumed++ if $m && $m->{type} eq 'resumed';
        }
    }
    is($moved, 3 * $reloads, "reloads: every session was moved with 1001 ($reloads reloads)");
    is($resumed, 3 * $reloads, 'reloads: ... and resumed');
    is($left, 0, 'reloads: nobody ever left or saw the room close');

    $c[0]{ws}->send_json({ type => 'roster' });
    my $m = next_of($c[0]->{ws}, 3, 'roster');
    is($m && ids($m->{participants}), join(',', map { $_->{id} } @c),
       'reloads: the three are in the room, none away');

    my ($workers, $ports);
    for (1 .. 100) {
        ($workers, $ports) = (status()->{parley_workers}, media_ports());
        last if $workers == 2 && $ports == 2 && !$S->old_worker_pids;
        sleep 0.1;
    }
    is($workers, 2, 'reloads: two inbox slots held, the old workers\' are free');
    is($ports, 2, 'reloads: two media ports bound, the old workers\' are closed');
    is(scalar $S->old_worker_pids, 0, 'reloads: no old worker is left');
    $_->{ws}->close(1000) for @c;
}


ok($S->stop, 'nginx stops gracefully');
# the worker killed on purpose is the master's one alert
my @bad = grep { /\[(alert|emerg|crit)\]/ && !/exited on signal 9/ }
          split /\n/, $S->error_log;
ok(!@bad, 'no [alert], [emerg] or [crit] in error.log') or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

done_testing();
