package Test::Parley::Ports;

# Ports and a servroot for one test process, so that test runs side by
# side on one machine (two clones, or prove -j) never share them.
#
#   Test::Parley::Ports::setup();    # done when Test::Parley::Server loads
#
# fills in what the environment does not set already:
#
#   TEST_NGINX_PORT       a free TCP port for nginx's HTTP listener
#   TEST_NGINX_ICE_PORTS  "MIN-MAX", 128 free UDP ports for parley_ice_ports
#   TEST_NGINX_SERVROOT   t/servroot_PORT (absolute), after TEST_NGINX_PORT
#
# A port is claimed with an flock on a file in /tmp/parley-test-ports/,
# held until the process exits, and it must be free when claimed (a bind
# succeeds).  HTTP ports come from 20000-29999 and media ranges from
# 30000-32767, 128-aligned so that two ranges never overlap; both lie below
# Linux's ephemeral ports (32768 and up), which clients' connections take.
# A servroot named after a claimed port cannot clash either; it is removed
# when the process ends with every test passed, and kept otherwise.

use strict;
use warnings;
use Fcntl qw(:flock O_RDWR O_CREAT);
use File::Path qw(make_path remove_tree);
use File::Spec;
use IO::Socket::INET;

our $LockDir = '/tmp/parley-test-ports';
our ($HttpMin, $HttpMax) = (20000, 29999);
our ($MediaMin, $MediaMax, $MediaSize) = (30000, 32767, 128);

my @Held;         # lock handles, kept open for the life of the process
my $Owner;        # pid of the process that made the servroot
my $Servroot;     # the servroot this module named (not one from the env)

sub setup {
    $ENV{TEST_NGINX_PORT} //= claim_tcp();
    $ENV{TEST_NGINX_ICE_PORTS} //= claim_udp_range();
    unless (defined $ENV{TEST_NGINX_SERVROOT}) {
        $Servroot = File::Spec->rel2abs("t/servroot_$ENV{TEST_NGINX_PORT}");
        $Owner = $$;
        $ENV{TEST_NGINX_SERVROOT} = $Servroot;
    }
    return;
}

# An exclusive lock on "$LockDir/$name", or undef if another process has it.
sub _lock {
    my ($name) = @_;
    make_path($LockDir) unless -d $LockDir;
    sysopen my $fh, "$LockDir/$name", O_RDWR | O_CREAT, 0666 or die "$LockDir/$name: $!";
    return flock($fh, LOCK_EX | LOCK_NB) ? $fh : undef;
}

# Can this port be bound?  For TCP as nginx binds it (SO_REUSEADDR), so
# that connections in TIME_WAIT do not count, listeners do.
sub _free {
    my ($proto, $port) = @_;
    my $s = IO::Socket::INET->new(Proto => $proto, LocalAddr => '0.0.0.0',
                                  LocalPort => $port, ReuseAddr => $proto eq 'tcp')
        or return 0;
    close $s;
    return 1;
}

sub claim_tcp {
    for (1 .. 1000) {
        my $port = $HttpMin + int rand($HttpMax - $HttpMin + 1);
        my $lock = _lock("tcp-$port") or next;
        next unless _free('tcp', $port);
        push @Held, $lock;
        return $port;
    }
    die "Test::Parley::Ports: no free TCP port in $HttpMin-$HttpMax\n";
}

sub claim_udp_range {
    my $slots = int(($MediaMax - $MediaMin + 1) / $MediaSize);
    for my $slot (_shuffle(0 .. $slots - 1)) {
        my $min = $MediaMin + $slot * $MediaSize;
        my $max = $min + $MediaSize - 1;
        my $lock = _lock("udp-$min") or next;
        next if grep { !_free('udp', $_) } $min .. $max;
        push @Held, $lock;
        return "$min-$max";
    }
    die "Test::Parley::Ports: no free range of $MediaSize UDP ports in $MediaMin-$MediaMax\n";
}

sub _shuffle {
    my @a = @_;
    for (my $i = @a - 1; $i > 0; $i--) {
        my $j = int rand($i + 1);
        @a[$i, $j] = @a[$j, $i];
    }
    return @a;
}

# The servroot this module named, if any (undef when it came from the env).
sub servroot { $Servroot }

# Remove the servroot this process named, unless a test failed (then it
# is kept for its logs).  Called by Test::Parley::Server's END, after it
# has stopped any nginx still running.
sub cleanup {
    return unless $Servroot && ($Owner // 0) == $$ && -d $Servroot;
    return if $ENV{TEST_NGINX_NO_CLEAN};
    my $tb = Test::Builder->can('new') && Test::Builder->new;
    return if $tb && !$tb->is_passing;
    remove_tree($Servroot);
}

1;
