#!/usr/bin/perl
# How fast conversation events cross nginx workers, and how soon the others
# hear of a worker killed with SIGKILL: the figures t/005-workers.t checks
# only happen, measured here instead (a test on a loaded machine must not
# fail on a latency).  make bench runs it; by hand:
#
#   TEST_NGINX_LOAD_MODULES=build/ngx_http_parley_module.so \
#       perl -It/lib tests/bench/workers.pl [ROUNDS [KILLS]]
#
# Each figure is the time from a client's message (or the kill) to another
# client's receipt of the event, both clients in this process, over two
# workers; printed as median, 90th percentile and maximum, in milliseconds.

use strict;
use warnings;
use Time::HiRes qw(time sleep);
use Test::Parley::Clients;
use Test::Parley::Server;

my $Rounds = shift // 20;
my $Kills  = shift // 5;
my $Timeout = 5;

my $S = Test::Parley::Server->start(
    workers => 2, log_level => 'notice',
    http_config => "    parley_zone parley 8m;\n",
    config => "    listen 127.0.0.1:\$TEST_NGINX_PORT reuseport;\n"
            . "    location /ws { parley_signaling; }\n");
my $Pool = Test::Parley::Clients->new(server => $S, timeout => $Timeout);
my %Samples;    # what => [seconds]
my @Order;      # the order to print them in

sub sample {
    my ($what, $dt) = @_;
    push @Order, $what unless $Samples{$what};
    push @{ $Samples{$what} }, $dt;
}

# The next message of $c of type $type (others skipped); dies after the
# timeout.
sub next_of {
    my ($c, $type) = @_;
    my $m = $c->{ws}->wait_for(sub { ($_[0]{type} // '') eq $type }, timeout => $Timeout)
        or die "$c->{name}: no $type within $Timeout s\n";
    return $m;
}

# Sends $msg from $from and returns the seconds until $to gets $type.
sub event {
    my ($from, $msg, $to, $type) = @_;
    my $t0 = time;
    $from->{ws}->send_json($msg);
    next_of($to, $type);
    return time - $t0;
}

sub create_room {
    my ($c) = @_;
    $c->{ws}->send_json({ type => 'create', name => $c->{name} });
    return next_of($c, 'created')->{room};
}

sub where { $_[0]{worker} == $_[1]{worker} ? 'same worker' : 'other worker' }

# --- events between live workers ----------------------------------------------

for my $round (1 .. $Rounds) {
    my $ow = $round % 2;
    for my $pw ($ow, 1 - $ow) {
        my $org = $Pool->on($ow, 'Org');
        my $par = $Pool->on($pw, 'Par');
        my $room = create_room($org);
        my $where = where($org, $par);
        sample("join -> participant-joined, $where",
               event($par, { type => 'join', room => $room, name => 'Par' },
                     $org, 'participant-joined'));
        sample("leave -> participant-left, $where",
               event($par, { type => 'leave' }, $org, 'participant-left'));
        $par->{ws}->send_json({ type => 'join', room => $room, name => 'Par' });
        next_of($org, 'participant-joined');
        my $t0 = time;
        $par->{ws}->disconnect;
        next_of($org, 'participant-away');
        sample("TCP drop -> participant-away, $where", time - $t0);
        sample("close -> closed, $where",
               do {
                   my $again = $Pool->on($pw, 'Again');
                   $again->{ws}->send_json({ type => 'join', room => $room, name => 'Again' });
                   next_of($again, 'joined');
                   next_of($org, 'participant-joined');
                   event($org, { type => 'close' }, $again, 'closed');
               });
        $Pool->close_all;
    }
}

# --- a worker killed -------------------------------------------------------------

sub respawned {
    my ($pid) = @_;
    my $deadline = time + 10;
    while (time < $deadline) {
        my @p = $S->worker_pids;
        return if @p == 2 && !grep { $_ == $pid } @p;
        sleep 0.05;
    }
    die "worker $pid was not replaced within 10 s\n";
}

for my $kill (1 .. $Kills) {
    # a participant's worker dies: the organiser hears it is away
    my $org = $Pool->on(0, 'Org');
    my $par = $Pool->on(1, 'Par');
    my $room = create_room($org);
    $par->{ws}->send_json({ type => 'join', room => $room, name => 'Par' });
    next_of($org, 'participant-joined');
    $Pool->drop_spares;
    my $victim = $Pool->owner_pid($par) // die "no owner for Par\n";
    my $t0 = time;
    kill 'KILL', $victim;
    next_of($org, 'participant-away');
    sample('SIGKILL -> participant-away (worker_died)', time - $t0);
    respawned($victim);
    $Pool->close_all;

    # the organiser's worker dies: the others hear the organiser is away
    # (the room waits for parley_resume_timeout before it closes)
    $org = $Pool->on(1, 'Org');
    $par = $Pool->on(0, 'Par');
    $room = create_room($org);
    $par->{ws}->send_json({ type => 'join', room => $room, name => 'Par' });
    next_of($par, 'joined');
    $Pool->drop_spares;
    $victim = $Pool->owner_pid($org) // die "no owner for Org\n";
    $t0 = time;
    kill 'KILL', $victim;
    next_of($par, 'participant-away');
    sample("SIGKILL of the organiser's worker -> participant-away",
           time - $t0);
    respawned($victim);
    $Pool->close_all;
}

$S->stop;

# --- the figures -------------------------------------------------------------------

sub percentile {
    my ($sorted, $p) = @_;
    return $sorted->[ int($p * $#$sorted + 0.5) ];
}

printf "parley: events across nginx workers (2 workers; %d rounds, %d kills; ms)\n",
    $Rounds, $Kills;
printf "%-46s %4s %8s %8s %8s\n", '', 'n', 'median', 'p90', 'max';
for my $what (@Order) {
    my @s = sort { $a <=> $b } @{ $Samples{$what} };
    printf "%-46s %4d %8.2f %8.2f %8.2f\n", $what, scalar @s,
        map { $_ * 1000 } percentile(\@s, 0.5), percentile(\@s, 0.9), $s[-1];
}
