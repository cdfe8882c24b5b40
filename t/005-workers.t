# Conversations that span nginx workers: joins, leaves and closes announced
# across workers through the inboxes, many participants at once, a reload
# that keeps the rooms (and one that must be refused), and workers killed
# with SIGKILL.
#
# Plain Perl on the harness's API (see the POD of t/lib/Test/Nginx/Socket.pm),
# not the block format: it needs reloads, worker kills and clients placed on
# given workers.  One nginx runs the whole file, so that the error log can be
# checked once at the end, after everything above has happened.
#
#   TEST_NGINX_LOAD_MODULES=build/ngx_http_parley_module.so prove -It/lib t/005-workers.t
#
# Clients are placed on workers by Test::Parley::Clients.
#
# Deadlines here are functional (seconds: did it happen at all), never
# latencies: how fast events cross workers and how soon a dead worker is
# noticed is what tests/bench/workers.pl measures (make bench).

use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use Test::Parley::Clients;
use Test::Parley::Server;
use Test::Parley::WebSocket;
use JSON::PP ();

my $HttpConfig = <<'EOF';
    parley_zone parley 8m;
    parley_resume_timeout 0;
EOF

my $Config = <<'EOF';
    listen 127.0.0.1:$TEST_NGINX_PORT reuseport;
    location /ws { parley_signaling; }
EOF

my $Deadline = 5;         # seconds for anything to happen, a death included

my $S = Test::Parley::Server->start(
    workers => 2, http_config => $HttpConfig, config => $Config);
my $Pool = Test::Parley::Clients->new(server => $S);


# --- clients ----------------------------------------------------------------

sub client_on    { $Pool->on(@_) }        # (worker, name)
sub client_any   { $Pool->any(@_) }       # (name)
sub owner_pid    { $Pool->owner_pid(@_) }
sub close_client { Test::Parley::Clients::close_client(@_) }
sub close_all    { $Pool->close_all }

sub send_msg {
    my ($c, $msg) = @_;
    $c->{ws}->send_json($msg);
}

# The next message of $c, which must have the fields of %want (dotted paths
# for nested members, e.g. "participant.id"); one test.  Returns it, or undef.
sub expect_msg {
    my ($c, $desc, %want) = @_;
    my $timeout = delete $want{timeout} // 3;
    my $m = $c->{ws}->recv_json(timeout => $timeout);
    unless ($m) {
        my $last = $c->{ws}->last_message;
        fail("$c->{name}: $desc");
        diag("  $c->{name} got " . ($last ? "a $last->{type} frame" : "nothing within $timeout s"));
        return undef;
    }
    my @bad;
    for my $path (sort keys %want) {
        my $v = $m;
        $v = ref $v eq 'HASH' ? $v->{$_} : undef for split /\./, $path;
        push @bad, "$path is " . ($v // 'absent') . ", expected $want{$path}"
            unless defined $v && $v eq $want{$path};
    }
    ok(!@bad, "$c->{name}: $desc") or diag("  " . join("; ", @bad) . "\n  in " . encode($m));
    return @bad ? undef : $m;
}

# Nothing (no data message) for $ms milliseconds; one test.
sub quiet_ok {
    my ($c, $desc, $ms) = @_;
    my $m = $c->{ws}->recv_json(timeout => ($ms // 300) / 1000);
    ok(!$m, "$c->{name}: $desc") or diag("  got " . encode($m));
}

my $Json = JSON::PP->new->canonical;
sub encode { $Json->encode($_[0]) }

sub ids { return join ',', sort { $a <=> $b } map { ref $_ ? $_->{id} : $_ } @_ }

sub create_room {
    my ($c) = @_;
    send_msg($c, { type => 'create', name => $c->{name} });
    my $m = expect_msg($c, 'created', type => 'created', 'you.role' => 'organiser')
        or die "$c->{name} could not create a room\n";
    $c->{id} = $m->{you}{id};
    return $m->{room};
}

# Joins and checks the "joined" answer; returns it (undef on failure).
sub join_room {
    my ($c, $room) = @_;
    send_msg($c, { type => 'join', room => $room, name => $c->{name} });
    my $m = expect_msg($c, 'joined', type => 'joined', room => $room,
                       'you.name' => $c->{name}, 'you.role' => 'participant')
        or return undef;
    $c->{id} = $m->{you}{id};
    return $m;
}

# Waits for "participant-joined" of $who at $c.
sub sees_join {
    my ($c, $who, $room) = @_;
    return expect_msg($c, "sees $who->{name} join", timeout => $Deadline,
                      type => 'participant-joined', room => $room,
                      'participant.id' => $who->{id}, 'participant.name' => $who->{name},
                      'participant.role' => 'participant');
}

sub sees_leave {
    my ($c, $who, $room, $reason) = @_;
    return expect_msg($c, "sees $who->{name} leave ($reason)", timeout => $Deadline,
                      type => 'participant-left', room => $room,
                      id => $who->{id}, reason => $reason);
}

sub roster_ok {
    my ($c, $desc, @who) = @_;
    send_msg($c, { type => 'roster' });
    my $m = expect_msg($c, "roster request ($desc)", type => 'roster') or return;
    is(ids(@{ $m->{participants} }), ids(@who), "$c->{name}: roster is $desc");
}

sub ping_ok {
    my ($c, $desc) = @_;
    send_msg($c, { type => 'ping', ref => 'p' });
    expect_msg($c, "ping answered ($desc)", type => 'pong', ref => 'p');
}

# Runs a scenario as a subtest; a die inside (a client that cannot be
# placed, a room that cannot be made) fails it instead of the whole file.
sub scenario {
    my ($name, $code) = @_;
    subtest $name => sub {
        eval { $code->(); 1 } or fail("$name: stopped early: $@");
        close_all();
    };
}


# --- 1. two workers see each other -----------------------------------------

sub pair_across {
    my ($ow, $pw, $org_name, $par_name) = @_;
    my $org = client_on($ow, $org_name);
    my $par = client_on($pw, $par_name);
    is($org->{protocol}, 1, 'hello says protocol 1');
    my ($op, $pp) = (owner_pid($org), owner_pid($par));
    ok($op && $pp && $op != $pp, "worker $ow and worker $pw are different processes")
        or diag('pids: ' . ($op // '?') . ' ' . ($pp // '?'));

    my $room = create_room($org);
    my $joined = join_room($par, $room) or die "join failed\n";
    sees_join($org, $par, $room);
    is(ids(@{ $joined->{participants} }), ids($org, $par), "$par->{name}: joined roster has both");
    my ($o) = grep { $_->{id} eq $org->{id} } @{ $joined->{participants} };
    is($o && $o->{role}, 'organiser', "$par->{name}: ... with $org->{name} as organiser");

    send_msg($par, { type => 'leave' });
    sees_leave($org, $par, $room, 'left');
    expect_msg($par, 'left', type => 'left', room => $room);
    roster_ok($org, 'the organiser alone', $org);

    my $old_id = $par->{id};
    join_room($par, $room) or die "second join failed\n";
    isnt($par->{id}, $old_id, 'a new join gets a new participant id');
    sees_join($org, $par, $room);

    $par->{ws}->disconnect;    # TCP close, no close frame
    sees_leave($org, $par, $room, 'disconnected');
    roster_ok($org, 'the organiser alone again', $org);
    quiet_ok($org, 'nothing more');
}

scenario('1a. participant on worker 1 joins a room created on worker 0', sub { pair_across(0, 1, 'Alice', 'Bob') });
scenario('1b. participant on worker 0 joins a room created on worker 1', sub { pair_across(1, 0, 'Carol', 'Dave') });


# --- 2. the organiser closes a room spread over both workers ---------------

scenario('2. close reaches every worker', sub {
    my $alice = client_on(0, 'Alice');
    my $bob   = client_on(1, 'Bob');
    my $carol = client_on(0, 'Carol');
    my $dave  = client_on(1, 'Dave');

    my $room = create_room($alice);
    my @in = ($alice);
    for my $c ($bob, $carol, $dave) {
        my $j = join_room($c, $room) or die "$c->{name} could not join\n";
        is(ids(@{ $j->{participants} }), ids(@in, $c), "$c->{name}: joined roster");
        sees_join($_, $c, $room) for @in;
        push @in, $c;
    }

    send_msg($alice, { type => 'close' });
    for my $c (@in) {
        expect_msg($c, 'closed by the organiser', timeout => $Deadline,
                   type => 'closed', room => $room, reason => 'organiser_closed');
    }
    for my $c (@in) {
        send_msg($c, { type => 'roster' });
        expect_msg($c, 'out of the room', type => 'error', code => 'not_in_room');
    }
    send_msg($bob, { type => 'join', room => $room, name => 'Bob' });
    expect_msg($bob, 'the closed room is gone', type => 'error', code => 'room_not_found');
    quiet_ok($_, 'nothing more', 100) for @in;
});


# --- 3. many participants at once -----------------------------------------

scenario('3. twenty participants over two workers join at once', sub {
    my $n = 20;
    my @c = map { client_on($_ % 2, "P$_") } 0 .. $n - 1;
    my ($org, @others) = @c;
    my $room = create_room($org);

    # all joins at once: the workers handle them concurrently
    send_msg($_, { type => 'join', room => $room, name => $_->{name} }) for @others;

    my (%view, %roster, @dups);
    $view{ $org->{id} } = { $org->{id} => 1 };
    $roster{ $org->{id} } = { $org->{id} => 1 };
    for my $c (@others) {
        my $m = expect_msg($c, 'joined', type => 'joined', room => $room)
            or die "$c->{name} could not join\n";
        $c->{id} = $m->{you}{id};
        $roster{ $c->{id} } = { map { $_->{id} => 1 } @{ $m->{participants} } };
        $view{ $c->{id} } = { %{ $roster{ $c->{id} } } };
    }
    my $all = ids(@c);
    is(scalar(keys %{ { map { $_->{id} => 1 } @c } }), $n, "$n distinct participant ids");

    # each client: its joined roster plus the participant-joined it receives
    # afterwards must make the whole room, each newcomer announced once
    for my $c (@c) {
        my $v = $view{ $c->{id} };
        my @odd;
        my $seen = sub {
            my ($id) = @_;
            push @dups, "$c->{name} (w$c->{worker}) got participant-joined for $id, "
                . ($roster{ $c->{id} }{$id} ? 'who was in its joined roster' : 'a second time')
                if $v->{$id}++;
        };
        my $deadline = time + $Deadline;
        while (keys %$v < $n && time < $deadline) {
            my $m = $c->{ws}->recv_json(timeout => $deadline - time) or last;
            if (($m->{type} // '') eq 'participant-joined' && ($m->{room} // '') eq $room) {
                $seen->($m->{participant}{id});
            } else {
                push @odd, encode($m);
            }
        }
        # anything late (a second announcement) shows up here
        while (my $m = $c->{ws}->recv_json(timeout => 0.2)) {
            if (($m->{type} // '') eq 'participant-joined' && ($m->{room} // '') eq $room) {
                $seen->($m->{participant}{id});
            } else {
                push @odd, encode($m);
            }
        }
        is(ids(keys %$v), $all, "$c->{name} (w$c->{worker}): roster + events = the whole room");
        ok(!@odd, "$c->{name}: no other message") or diag("  @odd");
    }
    ok(!@dups, 'no one is announced to a participant who already knows them')
        or diag(join "\n", map { "  $_" } @dups);

    for my $c (@c) {
        send_msg($c, { type => 'roster' });
        my $m = expect_msg($c, 'roster', type => 'roster', room => $room) or next;
        is(ids(@{ $m->{participants} }), $all, "$c->{name}: roster request = the whole room");
    }

    # all leave at once: the organiser hears every one of them
    send_msg($_, { type => 'leave' }) for @others;
    for my $c (@others) {
        my @before;
        my $m = $c->{ws}->wait_for(sub { push @before, $_[0]; $_[0]{type} eq 'left' }, timeout => $Deadline);
        ok($m, "$c->{name}: left");
        my @odd = grep { $_->{type} ne 'participant-left' && $_->{type} ne 'left' } @before;
        ok(!@odd, "$c->{name}: only participant-left before it") or diag(encode(\@odd));
    }
    my @left;
    while (@left < @others) {
        my $m = $org->{ws}->recv_json(timeout => $Deadline) or last;
        push @left, $m;
    }
    is(scalar(grep { $_->{type} eq 'participant-left' && $_->{reason} eq 'left' } @left),
       scalar @others, 'organiser: one participant-left (left) per leaver')
        or diag(encode(\@left));
    is(ids(map { $_->{id} } @left), ids(@others), 'organiser: ... for each of them');
    roster_ok($org, 'the organiser alone', $org);
    quiet_ok($org, 'nothing more');
});


# --- 4. reload: the rooms stay, across generations of workers ---------------

scenario('4. reload keeps rooms and connections', sub {
    my $alice = client_on(0, 'Alice');
    my $bob   = client_on(1, 'Bob');
    $Pool->drop_spares;    # let old workers drain
    my $room = create_room($alice);
    join_room($bob, $room) or die "bob could not join\n";
    sees_join($alice, $bob, $room);

    my @old = $S->worker_pids;
    my @new = $S->reload;
    is(scalar @new, 2, 'reload: two new workers') or die "reload failed\n";
    ok(!(grep { my $n = $_; grep { $_ == $n } @old } @new), 'reload: all workers are new');
    is(join(',', sort { $a <=> $b } $S->old_worker_pids), join(',', sort { $a <=> $b } @old),
       'the old workers still run (they hold connections)');
    my %old = map { $_ => 1 } @old;
    my %new = map { $_ => 1 } @new;
    ok($old{ owner_pid($alice) // 0 }, 'alice is held by an old worker');
    ok($old{ owner_pid($bob) // 0 }, 'bob is held by an old worker');

    ping_ok($alice, 'old worker');
    ping_ok($bob, 'old worker');
    $alice->{ws}->send_ping('still');
    my $pong = $alice->{ws}->recv_message(control => 1, timeout => 3);
    is($pong && "$pong->{type} $pong->{payload}", 'pong still', 'alice: WebSocket ping answered');

    my $carol = client_any('Carol');
    ok($new{ owner_pid($carol) // 0 }, 'carol is held by a new worker');
    my $j = join_room($carol, $room) or die "carol could not join\n";
    is(ids(@{ $j->{participants} }), ids($alice, $bob, $carol),
       'carol: joined roster has alice and bob');
    sees_join($alice, $carol, $room);
    sees_join($bob, $carol, $room);

    send_msg($carol, { type => 'leave' });
    expect_msg($carol, 'left', type => 'left', room => $room);
    sees_leave($alice, $carol, $room, 'left');
    sees_leave($bob, $carol, $room, 'left');

    join_room($carol, $room) or die "carol could not join again\n";
    sees_join($_, $carol, $room) for $alice, $bob;
    send_msg($bob, { type => 'leave' });
    expect_msg($bob, 'left', type => 'left', room => $room);
    sees_leave($alice, $bob, $room, 'left');
    sees_leave($carol, $bob, $room, 'left');

    # a reload that changes the room layout is refused; the old config stays
    my $mark = $S->error_log_mark;
    my @refused = $S->reload(http_config => $HttpConfig . "    parley_max_rooms 500;\n",
                             timeout => 5);
    is(scalar @refused, 0, 'reload with another parley_max_rooms is refused');
    like($S->error_log($mark),
         qr/\[emerg\][^\n]*parley_zone "parley" holds rooms laid out for other parley_max_rooms/,
         '... with the reason in the error log');
    $S->{http_config} = $HttpConfig;    # the running config again, for later reloads
    $S->write_config;
    is(join(',', $S->worker_pids), join(',', @new), '... and the same workers go on');
    ping_ok($_, 'after the refused reload') for $alice, $carol;

    my $dave = client_any('Dave');
    ok($new{ owner_pid($dave) // 0 }, 'dave is held by a current worker');
    $j = join_room($dave, $room) or die "dave could not join\n";
    is(ids(@{ $j->{participants} }), ids($alice, $carol, $dave), 'dave: joined roster');
    sees_join($alice, $dave, $room);
    sees_join($carol, $dave, $room);

    # the organiser, on an old worker, goes: the room ends on the new ones
    $alice->{ws}->disconnect;
    for my $c ($carol, $dave) {
        expect_msg($c, 'room closed when the organiser dropped', timeout => $Deadline,
                   type => 'closed', room => $room, reason => 'organiser_left');
    }
    close_all();
    my $deadline = time + 5;
    sleep 0.05 while $S->old_worker_pids && time < $deadline;
    is(scalar($S->old_worker_pids), 0, 'the old workers exit once their clients are gone');
    is(join(',', $S->worker_pids), join(',', @new), 'the new workers serve on');
});


# --- 5. a worker killed with SIGKILL -----------------------------------------

my @Killed;               # pids: the master logs an [alert] for each

# SIGKILL to $pid, without waiting for the master's replacement.  Spare
# connections are closed first: some would die with the worker.
sub kill9 {
    my ($pid) = @_;
    $Pool->drop_spares;
    push @Killed, $pid;
    $S->kill_worker($pid, 'KILL', wait => 0);
}

# Waits for the master to replace $pid; returns the worker pids.
sub respawned {
    my ($pid) = @_;
    my $deadline = time + 10;
    while (time < $deadline) {
        my @p = $S->worker_pids;
        return @p if @p == 2 && !grep { $_ == $pid } @p;
        sleep 0.05;
    }
    return ();
}

scenario('5a. the worker of two participants is killed', sub {
    my $alice = client_on(0, 'Alice');
    my $bob   = client_on(1, 'Bob');
    my $carol = client_on(1, 'Carol');
    my $room = create_room($alice);
    for my $c ($bob, $carol) {
        join_room($c, $room) or die "$c->{name} could not join\n";
        sees_join($alice, $c, $room);
    }
    sees_join($bob, $carol, $room);

    my ($victim, $cp, $ap) = map { owner_pid($_) // 0 } $bob, $carol, $alice;
    ok($victim && $victim == $cp && $victim != $ap, 'bob and carol share a worker, alice has another')
        or die "placement\n";

    my $mark = $S->error_log_mark;
    kill9($victim);
    my @gone;
    my $deadline = time + $Deadline;
    while (@gone < 2) {
        my $m = $alice->{ws}->recv_json(timeout => $deadline - time) or last;
        push @gone, $m;
    }
    is(join(' ', sort map { ($_->{type} // '?') . ':' . ($_->{reason} // '') . ':' . ($_->{id} // '') } @gone),
       join(' ', sort map { "participant-left:worker_died:$_->{id}" } $bob, $carol),
       'alice: participant-left (worker_died) for bob and carol');
    my @now = respawned($victim);
    is(scalar @now, 2, 'the master respawned the worker');
    ok($S->wait_for_log(qr/removed 2 participants of a dead worker/, from => $mark),
       'the error log says the participants were removed');
    ok($_->{ws}->wait_eof(timeout => $Deadline), "$_->{name}: connection gone") for $bob, $carol;

    roster_ok($alice, 'alice alone', $alice);

    my $erin = client_on(1, 'Erin');
    my ($fresh) = grep { $_ != $ap } @now;
    is(owner_pid($erin) // 0, $fresh // -1, 'erin is held by the respawned worker');
    my $j = join_room($erin, $room) or die "erin could not join\n";
    is(ids(@{ $j->{participants} }), ids($alice, $erin), 'erin: joined roster');
    sees_join($alice, $erin, $room);
    send_msg($erin, { type => 'leave' });
    sees_leave($alice, $erin, $room, 'left');
    expect_msg($erin, 'left', type => 'left', room => $room);

    my $fred = client_on(0, 'Fred');
    join_room($fred, $room) or die "fred could not join\n";
    sees_join($alice, $fred, $room);
    roster_ok($alice, 'alice and fred', $alice, $fred);
    quiet_ok($alice, 'nothing more');
});

scenario("5b. the organiser's worker is killed", sub {
    my $alice = client_on(0, 'Alice');
    my $bob   = client_on(1, 'Bob');
    my $carol = client_on(1, 'Carol');
    my $room = create_room($alice);
    for my $c ($bob, $carol) {
        join_room($c, $room) or die "$c->{name} could not join\n";
        sees_join($alice, $c, $room);
    }
    sees_join($bob, $carol, $room);
    my ($victim, $bp) = map { owner_pid($_) // 0 } $alice, $bob;
    ok($victim && $victim != $bp, 'alice is on another worker than bob and carol')
        or die "placement\n";

    kill9($victim);
    for my $c ($bob, $carol) {
        expect_msg($c, 'room closed: its organiser died', timeout => $Deadline,
                   type => 'closed', room => $room, reason => 'organiser_left');
    }
    is(scalar respawned($victim), 2, 'the master respawned the worker');
    ok($alice->{ws}->wait_eof(timeout => $Deadline), 'alice: connection gone');

    for my $c ($bob, $carol) {
        send_msg($c, { type => 'roster' });
        expect_msg($c, 'out of the room', type => 'error', code => 'not_in_room');
    }
    for my $w (0, 1) {
        my $c = client_on($w, "Late$w");
        send_msg($c, { type => 'join', room => $room, name => $c->{name} });
        expect_msg($c, "the room is gone (asked on worker $w)", type => 'error', code => 'room_not_found');
    }
    my $room2 = create_room($bob);
    my $dave = client_on(0, 'Dave');    # on the respawned worker
    join_room($dave, $room2) or die "dave could not join\n";
    sees_join($bob, $dave, $room2);
    quiet_ok($_, 'nothing more', 100) for $bob, $carol;
});

# A worker that crashes again soon after its respawn (a crash loop) must not
# take the other workers' inboxes down with it: here the respawned worker
# is killed after it has reaped its predecessor but before its first
# wake-up, and alice's worker must go on hearing events all the same.
scenario('5c. a respawned worker killed again at once', sub {
    my $alice = client_on(0, 'Alice');
    my $bob   = client_on(1, 'Bob');
    my $room = create_room($alice);
    join_room($bob, $room) or die "bob could not join\n";
    sees_join($alice, $bob, $room);

    my ($victim, $ap) = map { owner_pid($_) // 0 } $bob, $alice;
    ok($victim && $victim != $ap, 'alice and bob on different workers') or die "placement\n";
    my $mark = $S->error_log_mark;
    kill9($victim);
    my ($again) = grep { $_ != $ap } respawned($victim);
    ok($again, 'the master respawned the worker') or die "no respawn\n";
    ok($S->wait_for_log(qr/\b$again#\d+: parley: removed 1 participants of a dead worker/,
                        from => $mark),
       'the respawned worker removed bob');
    kill9($again);
    ok(scalar respawned($again), 'the master respawned it again');

    expect_msg($alice, 'sees bob leave (worker_died)', timeout => $Deadline,
               type => 'participant-left', room => $room, id => $bob->{id}, reason => 'worker_died');
    my $carol = client_on(1, 'Carol');
    join_room($carol, $room) or die "carol could not join\n";
    sees_join($alice, $carol, $room);
    my $dave = client_on(0, 'Dave');    # alice's own worker
    join_room($dave, $room) or die "dave could not join\n";
    sees_join($alice, $dave, $room);
    roster_ok($alice, 'alice, carol and dave', $alice, $carol, $dave);
});


# --- 6. the error log -----------------------------------------------------------
#
# The block runner's implicit "no [alert], no [emerg]" check (see the POD)
# belongs to run_tests() and does not run in a plain Perl file like this one;
# the same check is made here, by hand, allowing exactly what this file
# causes on purpose: the master's [alert] for each worker it saw die of
# SIGKILL, and the [emerg] of the reload refused in scenario 4.

close_all();
ok($S->stop, 'nginx stops gracefully');

my $log = $S->error_log;
my $killed_re = qr/\[alert\] \d+#\d+: worker process (\d+) exited on signal 9$/;
my @alerts = grep { /\[alert\]/ } split /\n/, $log;
is(join(',', sort { $a <=> $b } map { /$killed_re/ ? $1 : () } @alerts),
   join(',', sort { $a <=> $b } @Killed),
   'the master logged an [alert] for each worker killed, and for no other');
my @other_alerts = grep { !/$killed_re/ } @alerts;
ok(!@other_alerts, 'no other [alert] in error.log') or diag(join "\n", @other_alerts);
my @emerg = grep { /\[emerg\]/ } split /\n/, $log;
my @refusal = grep { /laid out for other parley_max_rooms/ } @emerg;
is(scalar @refusal, 1, 'the refused reload is the one [emerg]');
ok(!(grep { !/laid out for other parley_max_rooms/ } @emerg), 'no other [emerg] in error.log')
    or diag(join "\n", grep { !/laid out for other parley_max_rooms/ } @emerg);
my @crit = grep { /\[crit\]/ } split /\n/, $log;
ok(!@crit, 'no [crit] in error.log') or diag(join "\n", @crit);

done_testing();
