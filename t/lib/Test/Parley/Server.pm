package Test::Parley::Server;

# One nginx instance for a test: writes servroot/conf/nginx.conf, runs
# nginx in the foreground (daemon off) as a child process, waits until it
# listens, and stops it again.  Used by Test::Nginx::Socket for every block,
# and directly by .t files written as plain Perl:
#
#   my $s = Test::Parley::Server->start(
#       config => 'location /t { return 200 "hi\n"; }', workers => 2);
#   my $r = $s->http(path => '/t');          # { status, headers, body }
#   my @pids = $s->worker_pids;
#   $s->kill_worker($pids[0], 'KILL');       # waits for the replacement
#   $s->reload(config => '...');             # HUP, waits for new workers
#   like $s->error_log, qr/.../;
#   $s->stop;
#
# Environment (as in OpenResty's Test::Nginx): TEST_NGINX_BINARY
# (/usr/sbin/nginx), TEST_NGINX_PORT, TEST_NGINX_SERVROOT,
# TEST_NGINX_LOAD_MODULES (space-separated .so paths).  Unset,
# TEST_NGINX_PORT, TEST_NGINX_ICE_PORTS and TEST_NGINX_SERVROOT are chosen
# for this process when this module loads (see Test::Parley::Ports).
#
# Any nginx still running when the process ends is stopped by an END block.

use strict;
use warnings;
use Carp qw(croak);
use File::Path qw(make_path remove_tree);
use File::Spec;
use POSIX qw(WNOHANG);
use Scalar::Util qw(refaddr weaken);
use Time::HiRes qw(time sleep);
use Test::Parley::HTTP;
use Test::Parley::Ports;

Test::Parley::Ports::setup();

my @Temp_paths = qw(client_body proxy fastcgi uwsgi scgi);
my %Running;    # launched and not stopped yet, by address (weak references)

END {
    local ($?, $@, $!);
    for my $s (grep { defined } values %Running) {
        $s->stop if ($s->{owner} // 0) == $$;
    }
    Test::Parley::Ports::cleanup();
}

sub new {
    my ($class, %a) = @_;
    my $self = bless {
        binary       => $a{binary}   // $ENV{TEST_NGINX_BINARY}   // '/usr/sbin/nginx',
        wrapper      => $a{wrapper}  // [],       # e.g. [qw(valgrind -q)]
        port         => $a{port}     // $ENV{TEST_NGINX_PORT},
        servroot     => File::Spec->rel2abs($a{servroot} // $ENV{TEST_NGINX_SERVROOT}),
        load_modules => [ split ' ', $a{load_modules} // $ENV{TEST_NGINX_LOAD_MODULES} // '' ],
        workers      => $a{workers}   // 1,
        master       => $a{master}    // 1,
        log_level    => $a{log_level} // 'info',
        env          => $a{env}       // [],      # names for "env NAME;"
        root_location => $a{root_location} // 1,
        main_config  => $a{main_config} // '',
        http_config  => $a{http_config} // '',
        config       => $a{config}      // '',
        start_timeout => $a{start_timeout} // 10,
        stop_timeout  => $a{stop_timeout}  // 10,
    }, $class;
    return $self;
}

# Class method: new + launch, dies (with the log) when nginx does not come up.
sub start {
    my ($class, %a) = @_;
    my $self = $class->new(%a);
    $self->launch
        or croak "nginx failed to start:\n" . $self->startup_output;
    return $self;
}

sub port     { $_[0]{port} }
sub servroot { $_[0]{servroot} }
sub pid      { $_[0]{pid} }             # the master (or the single process)
sub conf_file { "$_[0]{servroot}/conf/nginx.conf" }
sub error_log_file { "$_[0]{servroot}/logs/error.log" }

# Replace $TEST_NGINX_PORT, $TEST_NGINX_SERVER_PORT, $TEST_NGINX_SERVROOT,
# $TEST_NGINX_HTML_DIR and any other $TEST_NGINX_FOO set in the environment.
sub subst {
    my ($self, $text) = @_;
    return $text unless defined $text;
    my %v = (PORT => $self->{port}, SERVER_PORT => $self->{port},
             SERVROOT => $self->{servroot}, HTML_DIR => "$self->{servroot}/html");
    $text =~ s{\$TEST_NGINX_(\w+)}{
        $v{$1} // $ENV{"TEST_NGINX_$1"} // "\$TEST_NGINX_$1"
    }ge;
    return $text;
}

sub conf_text {
    my ($self) = @_;
    my $root = $self->{servroot};
    my ($main, $http, $conf) = map { $self->subst($self->{$_}) }
        qw(main_config http_config config);
    my $c = '';
    # load_module must come before anything else
    $c .= "load_module $_;\n" for @{ $self->{load_modules} };
    $c .= "daemon off;\n";
    $c .= "master_process " . ($self->{master} ? 'on' : 'off') . ";\n";
    $c .= "worker_processes $self->{workers};\n";
    # As root, nginx would run its workers as "nobody", who may not be able
    # to reach a servroot under /root or /work; run them as root instead.
    $c .= "user root;\n" if $> == 0 && $main !~ /^\s*user\s/m;
    $c .= "error_log $root/logs/error.log $self->{log_level};\n";
    $c .= "pid $root/logs/nginx.pid;\n";
    $c .= "lock_file $root/logs/nginx.lock;\n";
    $c .= "env $_;\n" for @{ $self->{env} };
    $c .= "$main\n";
    $c .= "events {\n    worker_connections 1024;\n}\n";
    $c .= "http {\n";
    $c .= "    access_log $root/logs/access.log;\n";
    $c .= "    ${_}_temp_path $root/${_}_temp;\n" for @Temp_paths;
    $c .= "    default_type text/plain;\n";
    $c .= "$http\n";
    $c .= "    server {\n";
    # a test may bring its own "listen" (e.g. with reuseport)
    $c .= "        listen 127.0.0.1:$self->{port};\n" unless $conf =~ /^\s*listen\s/m;
    $c .= "        server_name localhost;\n";
    $c .= "        client_max_body_size 30M;\n";
    $c .= "$conf\n";
    $c .= "        location / {\n            root $root/html;\n            index index.html;\n        }\n"
        if $self->{root_location};
    $c .= "    }\n}\n";
    return $c;
}

sub write_config {
    my ($self) = @_;
    open my $fh, '>', $self->conf_file or croak "write nginx.conf: $!";
    print $fh $self->conf_text;
    close $fh;
}

# A clean servroot: conf/, logs/, html/ with an index.html (as upstream
# writes one) and the temp directories.
sub prepare {
    my ($self) = @_;
    my $root = $self->{servroot};
    remove_tree($root);
    make_path(map { "$root/$_" } qw(conf logs html), map { "${_}_temp" } @Temp_paths);
    open my $fh, '>', "$root/html/index.html" or croak "write index.html: $!";
    print $fh "<html><body>nginx under test</body></html>\n";
    close $fh;
    $self->write_config;
}

# Kill an nginx left running in this servroot by an aborted earlier run.
sub kill_stale {
    my ($self) = @_;
    my $pidfile = "$self->{servroot}/logs/nginx.pid";
    open my $fh, '<', $pidfile or return;
    my ($pid) = <$fh> =~ /(\d+)/;
    close $fh;
    return unless $pid && _cmdline($pid) =~ /nginx/;
    kill 'QUIT', $pid;
    for (1 .. 50) { return unless _alive($pid); sleep 0.1 }
    kill 'KILL', $_ for $pid, _children($pid);
    sleep 0.1;
}

# Start nginx.  Returns 1 once it accepts connections on the port (and all
# workers exist); 0 if it exited (or never came up).  With expect_fail => 1
# it waits for the process to exit instead: returns 0 if it died, 1 if it
# came up after all (the server is then left running; call ->stop).
sub launch {
    my ($self, %a) = @_;
    delete @$self{qw(stopped stop_error start_error exit_status)};
    $self->kill_stale;
    $self->prepare;
    my $root = $self->{servroot};
    $self->{owner} = $$;
    weaken($Running{ refaddr $self } = $self);
    my $pid = fork // croak "fork: $!";
    if (!$pid) {
        open STDIN,  '<', '/dev/null';
        open STDOUT, '>', "$root/logs/stderr.log";
        open STDERR, '>&', \*STDOUT;
        exec @{ $self->{wrapper} }, $self->{binary}, '-p', "$root/",
             '-c', $self->conf_file,
             '-e', "$root/logs/error.log";
        die "exec $self->{binary}: $!";
    }
    $self->{pid} = $pid;
    my $deadline = time + $self->{start_timeout};
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            $self->{exit_status} = $?;
            delete $self->{pid};
            return 0;
        }
        if ($self->_up) {
            return 1 unless $self->{master};
            return 1 if $self->worker_pids >= $self->{workers};
        }
        sleep 0.02;
    }
    return 1 if $a{expect_fail} && $self->{pid};   # still running: it did not die
    $self->stop;
    $self->{start_error} = "nginx did not come up within $self->{start_timeout} s";
    return 0;
}

# Listening on our port, with our pid in the pid file?
sub _up {
    my ($self) = @_;
    open my $fh, '<', "$self->{servroot}/logs/nginx.pid" or return 0;
    my $line = <$fh> // '';
    close $fh;
    return 0 unless $line =~ /^(\d+)/ && $1 == $self->{pid};
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port},
                                  Proto => 'tcp', Timeout => 1)
        or return 0;
    close $s;
    return 1;
}

sub running {
    my ($self) = @_;
    return 0 unless $self->{pid};
    if (waitpid($self->{pid}, WNOHANG) == $self->{pid}) {
        $self->{exit_status} = $?;
        delete $self->{pid};
        return 0;
    }
    return 1;
}

# Graceful stop (SIGQUIT); after stop_timeout seconds, SIGKILL to the master
# and its children.  Returns 1 if nginx stopped gracefully in time: it was
# still running when asked, and exited with status 0.  Otherwise returns 0
# with the reason in {stop_error}.  Stopping again returns the same.
sub stop {
    my ($self) = @_;
    return $self->{stopped} if defined $self->{stopped};
    delete $Running{ refaddr $self };
    return 1 unless $self->{pid} || defined $self->{exit_status};    # never started
    unless ($self->running) {
        $self->{stop_error} = 'nginx exited before it was asked to stop ('
            . _exit_text($self->{exit_status}) . ')';
        return $self->{stopped} = 0;
    }
    my $pid = $self->{pid};
    kill 'QUIT', $pid;
    my $deadline = time + $self->{stop_timeout};
    while (time < $deadline) {
        unless ($self->running) {
            return $self->{stopped} = 1 if $self->{exit_status} == 0;
            $self->{stop_error} = 'nginx did not exit cleanly after SIGQUIT ('
                . _exit_text($self->{exit_status}) . ')';
            return $self->{stopped} = 0;
        }
        sleep 0.02;
    }
    # workers first, so that the master reaps them (no orphaned zombies)
    kill 'KILL', _children($pid);
    $deadline = time + 1;
    sleep 0.02 while $self->running && time < $deadline;
    if ($self->{pid}) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
        $self->{exit_status} = $?;
        delete $self->{pid};
    }
    $self->{stop_error} = "nginx did not stop within $self->{stop_timeout} s after SIGQUIT; killed";
    return $self->{stopped} = 0;
}

# "exit status 1", "killed by signal 11"
sub _exit_text {
    my ($status) = @_;
    return 'exit status unknown' unless defined $status;
    return 'killed by signal ' . ($status & 127) if $status & 127;
    return 'exit status ' . ($status >> 8);
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $@, $!);
    $self->stop if $self->{pid} && ($self->{owner} // 0) == $$;
}

# --- logs ---------------------------------------------------------------

sub _slurp {
    my ($file, $from) = @_;
    open my $fh, '<', $file or return '';
    binmode $fh;
    seek $fh, $from, 0 if $from;
    local $/;
    my $t = <$fh>;
    return $t // '';
}

# The error log, whole or from a byte offset (see error_log_mark).
sub error_log      { my ($self, $from) = @_; _slurp($self->error_log_file, $from) }
sub error_log_mark { my ($self) = @_; -s $self->error_log_file // 0 }
sub stderr_text    { my ($self) = @_; _slurp("$self->{servroot}/logs/stderr.log") }

# What to show when nginx failed to start.
sub startup_output {
    my ($self) = @_;
    my $t = '';
    $t .= "$self->{start_error}\n" if $self->{start_error};
    $t .= "exit status: " . ($self->{exit_status} >> 8) . "\n" if defined $self->{exit_status};
    my $log = $self->error_log;
    $log = "...\n" . join("\n", (split /\n/, $log)[-30 .. -1]) if ($log =~ tr/\n//) > 30;
    return $t . "error.log:\n$log" . "stderr:\n" . $self->stderr_text;
}

# Wait until the error log (from offset $a{from}) matches $re.
# Returns the match (true) or undef after $a{timeout} (default 3) seconds.
sub wait_for_log {
    my ($self, $re, %a) = @_;
    my $deadline = time + ($a{timeout} // 3);
    while (1) {
        my $log = $self->error_log($a{from});
        return $& || 1 if $log =~ $re;
        return undef if time >= $deadline;
        sleep 0.05;
    }
}

# --- processes ------------------------------------------------------------

sub _cmdline {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/cmdline" or return '';
    local $/;
    my $c = <$fh> // '';
    $c =~ tr/\0/ /;
    return $c;
}

# Exists and is not a zombie (an orphan may wait for a slow reaper).
sub _alive {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    return (<$fh> // '') !~ /\)\s+Z/;
}

sub _children {
    my ($ppid) = @_;
    my @kids;
    opendir my $dh, '/proc' or return ();
    for my $pid (grep /^\d+$/, readdir $dh) {
        open my $fh, '<', "/proc/$pid/stat" or next;
        my $stat = <$fh> // '';
        push @kids, $pid if $stat =~ /\)\s+\S+\s+(\d+)/ && $1 == $ppid;
    }
    return sort { $a <=> $b } @kids;
}

# Pids of the live (not shutting down) worker processes, sorted.
sub worker_pids {
    my ($self) = @_;
    return () unless $self->{pid} && $self->{master};
    return grep {
        my $c = _cmdline($_);
        $c =~ /worker process/ && $c !~ /shutting down/;
    } _children($self->{pid});
}

# Pids of workers still shutting down after a reload.
sub old_worker_pids {
    my ($self) = @_;
    return () unless $self->{pid};
    return grep { _cmdline($_) =~ /worker process is shutting down/ } _children($self->{pid});
}

# Wait until there are $self->{workers} live workers, none of them in
# %$exclude.  Returns the new pid list, or () on timeout.
sub _wait_workers {
    my ($self, $exclude, $timeout) = @_;
    my $deadline = time + ($timeout // 10);
    while (time < $deadline) {
        my @p = $self->worker_pids;
        return @p if @p == $self->{workers} && !grep { $exclude->{$_} } @p;
        sleep 0.05;
    }
    return ();
}

# Send a signal to one worker; unless wait => 0, wait for the master to
# replace it and return the new worker pid list.
sub kill_worker {
    my ($self, $pid, $sig, %a) = @_;
    kill $sig // 'KILL', $pid or return ();
    return () if defined $a{wait} && !$a{wait};
    return $self->_wait_workers({ $pid => 1 }, $a{timeout});
}

# Reload: optionally replace config parts (config, http_config,
# main_config, workers), rewrite nginx.conf, send SIGHUP and wait for a full
# set of new workers.  Returns the new worker pids, or () when the reload
# failed (e.g. a bad new config: see ->error_log) or timed out.
sub reload {
    my ($self, %a) = @_;
    for (qw(config http_config main_config workers log_level)) {
        $self->{$_} = $a{$_} if exists $a{$_};
    }
    $self->write_config;
    my $mark = $self->error_log_mark;
    my %old = map { $_ => 1 } $self->worker_pids;
    kill 'HUP', $self->{pid} or return ();
    my $deadline = time + ($a{timeout} // 10);
    while (time < $deadline) {
        my @p = $self->worker_pids;
        return @p if @p == $self->{workers} && !grep { $old{$_} } @p;
        return () if $self->error_log($mark) =~ /\[emerg\]/;
        sleep 0.05;
    }
    return ();
}

# --- HTTP -------------------------------------------------------------------

# $s->http(method => 'GET', path => '/t', headers => [Name => 'v', ...] or {...},
#          body => '...', timeout => 3)   or   $s->http(raw => "...")
sub http {
    my ($self, %a) = @_;
    my $raw = $a{raw};
    unless (defined $raw) {
        my $method = $a{method} // 'GET';
        my @h = ref $a{headers} eq 'HASH' ? %{ $a{headers} } : @{ $a{headers} // [] };
        $raw = "$method " . ($a{path} // '/') . " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
        while (my ($k, $v) = splice @h, 0, 2) { $raw .= "$k: $v\r\n" }
        $raw .= "Content-Length: " . length($a{body}) . "\r\n" if defined $a{body};
        $raw .= "\r\n" . ($a{body} // '');
    }
    return Test::Parley::HTTP::request(port => $self->{port}, raw => $raw,
        timeout => $a{timeout}, head => ($a{method} // '') eq 'HEAD');
}

1;
