package Test::Parley::Clients;

# Signaling clients of a parley server with several workers, placed on the
# worker a test wants them on (t/005-workers.t, tests/bench/workers.pl).
# No Test::More here: failures are dies, for the caller to report.
#
#   my $pool = Test::Parley::Clients->new(server => $s);
#   my $bob = $pool->on(1, 'Bob');   # { ws, worker, name, protocol }
#   my $any = $pool->any('Carol');   # wherever the kernel puts it
#   my $pid = $pool->owner_pid($bob);
#   $pool->drop_spares;              # close connections made but not used
#   $pool->close_all;
#
# The server must listen with "reuseport": the kernel then spreads
# connections over the workers' sockets, so a client is connected until one
# lands where it is wanted (the "worker" of its hello says where); the
# others are kept for later calls.  The process that really holds a
# connection is found through /proc (owner_pid).

use strict;
use warnings;
use Test::Parley::WebSocket;

our $Tries = 50;    # connections made to land a client on a worker

sub new {
    my ($class, %a) = @_;
    return bless { server => $a{server}, timeout => $a{timeout} // 3,
                   spare => {}, clients => [] }, $class;
}

# A new connection, greeted: { ws, worker, protocol }; dies if it fails.
sub connect_client {
    my ($self) = @_;
    my $ws = Test::Parley::WebSocket->connect(port => $self->{server}->port,
                                              path => '/ws', timeout => $self->{timeout});
    die 'connect: ' . ($ws->error // 'failed') . "\n" unless $ws->is_open;
    my $hello = $ws->recv_json(timeout => $self->{timeout});
    die "connect: no hello\n"
        unless $hello && ($hello->{type} // '') eq 'hello' && defined $hello->{worker};
    return { ws => $ws, worker => $hello->{worker}, protocol => $hello->{protocol} };
}

# A client held by worker $worker, named $name.
sub on {
    my ($self, $worker, $name) = @_;
    for (1 .. $Tries) {
        my $c = shift(@{ $self->{spare}{$worker} // [] }) // $self->connect_client;
        if ($c->{worker} == $worker) {
            $c->{name} = $name;
            push @{ $self->{clients} }, $c;
            return $c;
        }
        push @{ $self->{spare}{ $c->{worker} } }, $c;
    }
    die "no connection landed on worker $worker in $Tries tries "
        . "(reuseport spreads connections by their 4-tuple; is it on?)\n";
}

# A client on whatever worker the kernel picks.
sub any {
    my ($self, $name) = @_;
    my $c = $self->connect_client;
    $c->{name} = $name;
    push @{ $self->{clients} }, $c;
    return $c;
}

sub close_client {
    my ($c) = @_;
    $c->{ws}->close(1000) if $c->{ws}->is_open;
}

# Close the connections made while placing clients and not handed out
# (before a reload or a worker kill: they hold old workers or would die).
sub drop_spares {
    my ($self) = @_;
    close_client($_) for map { @$_ } values %{ $self->{spare} };
    $self->{spare} = {};
}

sub close_all {
    my ($self) = @_;
    $self->drop_spares;
    close_client($_) for @{ $self->{clients} };
    $self->{clients} = [];
}

# The pid of the nginx process that holds $c's connection (/proc/net/tcp
# gives the server side's socket inode, /proc/PID/fd who has it).
sub owner_pid {
    my ($self, $c) = @_;
    my $s = $self->{server};
    my $sock = $c->{ws}->socket or return undef;
    my $local = sprintf '0100007F:%04X', $s->port;
    my $remote = sprintf '0100007F:%04X', $sock->sockport;
    open my $tcp, '<', '/proc/net/tcp' or return undef;
    my $inode;
    while (my $line = <$tcp>) {
        my @f = split ' ', $line;
        if (@f > 9 && $f[1] eq $local && $f[2] eq $remote) { $inode = $f[9]; last }
    }
    return undef unless $inode;
    for my $pid ($s->worker_pids, $s->old_worker_pids) {
        opendir my $dh, "/proc/$pid/fd" or next;
        for (readdir $dh) {
            return $pid if (readlink("/proc/$pid/fd/$_") // '') eq "socket:[$inode]";
        }
    }
    return undef;
}

1;
