# Self-test of the test harness (t/lib/Test/Nginx/*) against stock nginx,
# without the parley module.  WebSocket parts go through nginx
# (proxy_pass with Upgrade) to a small echo server written here with
# Protocol::WebSocket, an implementation independent of ours.
#
#   prove -It/lib t/000-harness.t

use Test::Nginx::Socket 'no_plan';
use Test::Parley::Blocks;
use Test::Parley::Server;
use Test::Parley::WebSocket;
use Test::Parley::WebSocket::Exchange;
use IO::Socket::INET;
use File::Temp qw(tempdir);
use POSIX ();
use Protocol::WebSocket::Handshake::Server;
use Protocol::WebSocket::Frame;
use JSON::PP ();

# --- the echo server ---------------------------------------------------------
#
# On connect it sends {"type":"hello","id":"c<pid>","n":7,"path":...,"origin":...}.
# Text: JSON {"type":"echo","data":X} -> {"type":"echoed","data":X};
#   "two" -> {"type":"first"},{"type":"second"}; "frag" -> text "frag" sent in
#   two fragments; "ping-me" -> a ping "abc"; "close-me" -> close 1008 "bye";
#   "drop" -> TCP close; other text is echoed as is; invalid UTF-8 -> close 1007.
# Binary is echoed.  Ping -> pong.  Pong -> {"type":"got-pong","data":payload}.
# Close -> close with the same code, then TCP close.  Over 1000 bytes -> close 1009.

my $Listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                   Listen => 16, ReuseAddr => 1) or die "listen: $!";
$ENV{TEST_NGINX_ECHO_PORT} = $Listen->sockport;
my $EchoPid = fork // die "fork: $!";
if (!$EchoPid) {
    $SIG{CHLD} = 'IGNORE';
    while (my $c = $Listen->accept) {
        my $pid = fork // next;
        if (!$pid) { echo_session($c); POSIX::_exit(0) }
        close $c;
    }
    POSIX::_exit(0);
}
close $Listen;
END { kill 'KILL', $EchoPid if $EchoPid }

sub echo_session {
    my ($c) = @_;
    binmode $c;
    my $json = JSON::PP->new->canonical;
    my $hs = Protocol::WebSocket::Handshake::Server->new;
    while (!$hs->is_done) {
        sysread($c, my $buf, 4096) or return;
        $hs->parse($buf) or return;
    }
    my $out = sub { syswrite $c, $_[0] };
    my $frame = sub { Protocol::WebSocket::Frame->new(@_)->to_bytes };
    my $close = sub {
        $out->($frame->(type => 'close', buffer => pack('n', $_[0]) . ($_[1] // '')));
    };
    $out->($hs->to_string);
    $out->($frame->(type => 'text', buffer => $json->encode({
        type => 'hello', id => "c$$", n => 7, path => $hs->req->resource_name,
        origin => $hs->req->field('Origin') // '' })));
    # close without a reset: stop sending, read until the peer closes
    my $bye = sub {
        shutdown $c, 1;
        my $t = time + 2;
        while (time < $t) {
            my $v = '';
            vec($v, fileno $c, 1) = 1;
            last unless select($v, undef, undef, 0.2) && sysread($c, my $x, 65536);
        }
    };
    my $in = Protocol::WebSocket::Frame->new(max_payload_size => 1000);
    while (sysread($c, my $buf, 65536)) {
        $in->append($buf);
        while (1) {
            my $msg = eval { $in->next_bytes };
            if ($@) { $close->(1009); $bye->(); return }
            last unless defined $msg;
            if ($in->is_close) {
                my $code = length $msg >= 2 ? unpack('n', $msg) : undef;
                $out->(defined $code ? $frame->(type => 'close', buffer => pack 'n', $code)
                                     : $frame->(type => 'close'));
                $bye->();
                return;
            }
            if ($in->is_ping) { $out->($frame->(type => 'pong', buffer => $msg)); next }
            if ($in->is_pong) {
                $out->($frame->(type => 'text',
                    buffer => $json->encode({ type => 'got-pong', data => $msg })));
                next;
            }
            if ($in->is_binary) { $out->($frame->(type => 'binary', buffer => $msg)); next }
            my $copy = $msg;
            unless (utf8::decode($copy)) { $close->(1007); $bye->(); return }
            my $j = eval { $json->decode($msg) } // {};
            my $t = ref $j eq 'HASH' ? $j->{type} // '' : '';
            if ($t eq 'echo') {
                $out->($frame->(type => 'text',
                    buffer => $json->encode({ type => 'echoed', data => $j->{data} })));
            } elsif ($t eq 'two') {
                $out->($frame->(type => 'text', buffer => '{"type":"first"}')
                     . $frame->(type => 'text', buffer => '{"type":"second"}'));
            } elsif ($t eq 'frag') {
                $out->("\x01\x02fr\x80\x02ag");
            } elsif ($t eq 'ping-me') {
                $out->($frame->(type => 'ping', buffer => 'abc'));
            } elsif ($t eq 'close-me') {
                $close->(1008, 'bye');
            } elsif ($t eq 'drop') {
                $bye->();
                return;
            } else {
                $out->($frame->(type => 'text', buffer => $msg));
            }
        }
    }
}

my $ws_config = <<'EOF';
    location /ws {
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_read_timeout 10s;
    }
    location /forbidden { return 403; }
EOF

master_on();
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $ws_config) if defined $block->ws_config;
});

run_tests();

# a process that exists and is not a zombie
sub alive {
    open my $fh, '<', "/proc/$_[0]/stat" or return 0;
    return <$fh> !~ /\)\s+Z/;
}

# --- the programmatic API ---------------------------------------------------

my $s = Test::Parley::Server->start(workers => 2, config => $ws_config . <<'EOF');
    location /t { return 200 "one\n"; }
EOF
my @w = $s->worker_pids;
is scalar @w, 2, 'api: two workers';
is $s->http(path => '/t')->{body}, "one\n", 'api: http get';

my @w2 = $s->kill_worker($w[0], 'KILL');
is scalar @w2, 2, 'api: worker respawned';
ok !(grep { $_ == $w[0] } @w2), 'api: killed pid gone';
like $s->error_log, qr/exited on signal 9/, 'api: error_log has the crash';

my $mark = $s->error_log_mark;
my @w3 = $s->reload(config => $ws_config . 'location /t { return 200 "two\n"; }');
is scalar @w3, 2, 'api: reload gives two new workers';
ok !(grep { my $p = $_; grep { $_ == $p } @w2 } @w3), 'api: all workers are new';
is $s->http(path => '/t')->{body}, "two\n", 'api: new config active';
ok $s->wait_for_log(qr/reconfiguring/, from => $mark), 'api: wait_for_log';
unlike $s->error_log($mark), qr/exited on signal 9/, 'api: error_log from a mark';

$mark = $s->error_log_mark;
my @w4 = $s->reload(config => 'bogus_directive 1;', timeout => 3);
is scalar @w4, 0, 'api: reload with a bad config fails';
like $s->error_log($mark), qr/unknown directive "bogus_directive"/, 'api: ... and says why';
is $s->http(path => '/t')->{body}, "two\n", 'api: old config still serving';
$s->{config} = $ws_config;    # (so that later reloads would work again)

# WebSocket client
my $ws = Test::Parley::WebSocket->connect(port => $s->port, path => '/ws?a=1',
                                         headers => { Origin => 'http://o.test' });
is $ws->handshake_status, 101, 'ws: handshake 101';
is lc $ws->handshake_headers->{upgrade}, 'websocket', 'ws: Upgrade header';
ok $ws->is_open, 'ws: open';
my $hello = $ws->recv_json;
is $hello->{type}, 'hello', 'ws: hello';
is $hello->{path}, '/ws?a=1', 'ws: path';
is $hello->{origin}, 'http://o.test', 'ws: extra header';
$ws->send_json({ type => 'echo', data => { x => [1, 'two'] } });
is_deeply $ws->recv_json, { type => 'echoed', data => { x => [1, 'two'] } }, 'ws: echo';
$ws->send_json({ type => 'two' });
is $ws->wait_for(sub { $_[0]{type} eq 'second' })->{type}, 'second', 'ws: wait_for skips';
$ws->send_ping('p1');
my $pong = $ws->recv_message(control => 1);
is "$pong->{type} $pong->{payload}", 'pong p1', 'ws: pong';
$ws->send_binary("\x00\xff");
is $ws->recv_message->{payload}, "\x00\xff", 'ws: binary echo';
$ws->send_json({ type => 'frag' });
my $f = $ws->recv_frame;
is "$f->{type} $f->{fin} $f->{payload}", 'text 0 fr', 'ws: recv_frame gives a fragment';
$f = $ws->recv_frame;
is "$f->{type} $f->{fin} $f->{payload}", 'continuation 1 ag', 'ws: ... and the rest';
$ws->send_json({ type => 'frag' });
is $ws->recv_message->{payload}, 'frag', 'ws: recv_message reassembles';
$ws->send_json({ type => 'ping-me' });
is $ws->recv_json->{type}, 'got-pong', 'ws: pings are answered';
is $ws->recv_json(timeout => 0.3), undef, 'ws: recv_json timeout';
is $ws->close(1000), 1000, 'ws: closing handshake';

my $bad = Test::Parley::WebSocket->connect(port => $s->port, path => '/forbidden');
is $bad->handshake_status, 403, 'ws: failed handshake status';
ok !$bad->is_open, 'ws: failed handshake not open';

# Exchange failures are detected and located
my %ex = (port => $s->port, path => '/ws', timeout => 0.5);
my $r = Test::Parley::WebSocket::Exchange->run(%ex, script => <<'EOF');
a< {"type":"hello","n":"$n"}
# a comment
a> {"type":"echo","data":"$n"}
a< {"type":"echoed","data":8}
a< {"type":"never"}
EOF
is "$r->{ok} $r->{line}", '0 4', 'exchange: failing line found';
like $r->{error}, qr/\$\.data: expected 8, got 7/, 'exchange: says what differs';
like $r->{error}, qr/in text '\{"data":7,"type":"echoed"\}'/, 'exchange: shows the message';
$r = Test::Parley::WebSocket::Exchange->run(%ex, script => "a< type=hello\na< type=more");
like $r->{error}, qr/nothing within 0.5 s/, 'exchange: timeout reported';
$r = Test::Parley::WebSocket::Exchange->run(%ex, script => "a< type=hello\na> \"x\"\na<quiet 100");
like $r->{error}, qr/expected nothing for 100 ms, got text '"x"'/, 'exchange: quiet fails';
$r = Test::Parley::WebSocket::Exchange->run(%ex, script => "a> {\"x\":\"\$nope\"}");
like $r->{error}, qr/variable \$nope is not set/, 'exchange: unset variable';
$r = Test::Parley::WebSocket::Exchange->run(%ex, script => "a<! type=hello");
is $r->{line}, 1, 'exchange: <! fails on a match';
$r = Test::Parley::WebSocket::Exchange->run(%ex, script => "a< type=hello\na<close 1000");
like $r->{error}, qr/expected a close frame, got nothing/, 'exchange: <close fails';
$r = Test::Parley::WebSocket::Exchange->run(%ex, script => "poll /t ^two\$");
ok $r->{ok}, 'exchange: poll a page until it matches';
$r = Test::Parley::WebSocket::Exchange->run(%ex, script => "poll /t ^three\$");
like $r->{error}, qr{GET /t did not match /\^three\$/ within 0.5 s; the last answer:\nHTTP 200: two},
     'exchange: poll times out, with the last answer';
Test::Parley::WebSocket::Exchange::exchange_ok(%ex, script => "a< type=hello n=7", name => 'exchange_ok');

ok $s->stop, 'api: graceful stop';
ok !$s->running, 'api: stopped';

# a stuck worker: stop escalates to SIGKILL for master and workers
$s = Test::Parley::Server->start(stop_timeout => 1);
my ($stuck) = $s->worker_pids;
kill 'STOP', $stuck;
ok !$s->stop, 'api: stop reports a worker that does not exit';
like $s->{stop_error}, qr/did not stop within 1 s/, 'api: ... and why';
Time::HiRes::sleep(0.2);
ok !alive($stuck), 'api: stuck worker killed';

# ports: each process claims its own, unless the environment sets them
sub claim_in_child {
    my ($what, $range) = @_;
    my ($min, $max) = $range =~ /^(\d+)(?:-(\d+))?$/;
    my ($lo, $hi) = $what eq 'tcp' ? qw(HttpMin HttpMax) : qw(MediaMin MediaMax);
    local %ENV = %ENV;
    delete @ENV{qw(TEST_NGINX_PORT TEST_NGINX_ICE_PORTS TEST_NGINX_SERVROOT)};
    my $code = "\$Test::Parley::Ports::$lo = $min; \$Test::Parley::Ports::$hi = "
        . ($max // $min) . "; print eval { Test::Parley::Ports::claim_$what() } // 'none'";
    return scalar `$^X -It/lib -MTest::Parley::Ports -e '$code'`;
}
SKIP: {
    skip 'TEST_NGINX_PORT was set by the environment', 2
        if (Test::Parley::Ports::servroot() // '') ne $ENV{TEST_NGINX_SERVROOT};
    is claim_in_child('tcp', $ENV{TEST_NGINX_PORT}), 'none',
       'ports: another process cannot claim this HTTP port';
    is claim_in_child('udp_range', $ENV{TEST_NGINX_ICE_PORTS}), 'none',
       'ports: nor this media range';
}
my ($other) = claim_in_child('tcp', '20000-29999') =~ /^(\d+)$/;
ok $other && $other != $ENV{TEST_NGINX_PORT}, 'ports: another process gets another port';
is `TEST_NGINX_PORT=12345 $^X -It/lib -MTest::Parley::Server -e 'print \$ENV{TEST_NGINX_PORT}'`,
   12345, 'ports: TEST_NGINX_PORT from the environment is kept';

# an nginx that exited before it was asked to stop did not stop gracefully
$s = Test::Parley::Server->start;
kill 'TERM', $s->pid;    # a fast shutdown the harness did not ask for
my $deadline = time + 5;
Time::HiRes::sleep(0.02) while $s->running && time < $deadline;
ok !$s->running, 'api: nginx exited by itself';
ok !$s->stop, 'api: stop reports an nginx that had already exited';
like $s->{stop_error}, qr/exited before it was asked to stop/, 'api: ... and says so';

# an nginx left behind by an aborted test run is killed before a new start
my $kid = fork // die;
if (!$kid) {
    my $left = Test::Parley::Server->start;
    open my $p, '>', "$left->{servroot}/left.pid";
    print $p $left->pid;
    close $p;
    POSIX::_exit(0);
}
waitpid $kid, 0;
my $left_pid = do { open my $p, '<', "$ENV{TEST_NGINX_SERVROOT}/left.pid" or die; <$p> };
ok alive($left_pid), 'api: an orphaned nginx is running';
$s = Test::Parley::Server->start(config => 'location /t { return 200 "new\n"; }');
ok !alive($left_pid), 'api: ... and was killed by the next start';
is $s->http(path => '/t')->{body}, "new\n", 'api: the new one answers';
$s->stop;

# --- failures of the block runner are reported, and it does not hang ---------

my $dir = tempdir(CLEANUP => 1);
open my $fh, '>', "$dir/fail.t" or die;
print $fh <<'EOF';
use Test::Nginx::Socket 'no_plan';
use Test::Parley::Blocks;
master_on();    # the [alert]s come from worker processes
run_tests();
__DATA__

=== TEST 1: wrong expectations
--- config
    location /t { return 200 "hello\n"; }
    location /ws { return 200; }
--- request
GET /t
--- error_code: 201
--- response_body
bye
--- response_headers
X-Missing: 1
--- error_log
never logged
--- ws_exchange
a< type=hello

=== TEST 2: alert
--- main_config
    worker_rlimit_nofile 2000000000;
--- request
GET /
--- ignore_response

=== TEST 3: should die but does not
--- config
--- must_die

=== TEST 4: an expected alert excuses its own lines only
--- main_config
    worker_rlimit_nofile 2000000000;
--- request
GET /
--- ignore_response
--- error_log eval
qr/\[alert\] .*a line nginx never writes/

=== TEST 5: crit
--- config
    location /fifo/ { alias FIFO/; }
--- request
GET /fifo/a
--- ignore_response

=== TEST 6: sections upstream would ignore
--- config
    location /t { return 200 "hello\n"; }
--- request
GET /t
--- error_code: 404
--- response_headers
X-Missing: 1
--- response_headers_like
X-Missing: 1
EOF
close $fh;
# a FIFO where a file is expected: nginx logs "is not a regular file" at
# the crit level
mkdir "$dir/fifo" or die;
POSIX::mkfifo("$dir/fifo/a", 0600) or die "mkfifo: $!";
system($^X, '-pi', '-e', "s{FIFO/}{$dir/fifo/}", "$dir/fail.t") == 0 or die;
# the runner picks a port of its own (this process holds its own)
my $out = do {
    local %ENV = %ENV;
    delete @ENV{qw(TEST_NGINX_PORT TEST_NGINX_ICE_PORTS)};
    $ENV{TEST_NGINX_SERVROOT} = "$dir/servroot";
    `$^X -It/lib $dir/fail.t 2>&1`;
};
like $out, qr/^not ok 1 - TEST 1: wrong expectations - status code ok$/m, 'runner: status failure';
like $out, qr/^not ok \d+ - TEST 1: wrong expectations - header X-Missing ok$/m, 'runner: header failure';
like $out, qr/^not ok \d+ - TEST 1: wrong expectations - response_body - response is expected$/m,
     'runner: body failure';
like $out, qr/^not ok \d+ - TEST 1: wrong expectations - error_log: "never logged" found$/m,
     'runner: error_log failure';
like $out, qr/^not ok \d+ - TEST 1: wrong expectations - ws_exchange line 1: a< type=hello$/m,
     'runner: ws_exchange failure';
like $out, qr/handshake answered HTTP 200/, 'runner: ws_exchange diagnostic';
like $out, qr/^not ok \d+ - TEST 2: alert - no \[alert\] in error.log$/m, 'runner: implicit alert check';
like $out, qr/^not ok \d+ - TEST 3: should die but does not - nginx failed to start as expected$/m,
     'runner: must_die failure';
like $out, qr/^not ok \d+ - TEST 4: an expected alert excuses its own lines only - no \[alert\] in error.log$/m,
     'runner: an expected alert does not excuse the others';
like $out, qr/^not ok \d+ - TEST 5: crit - no \[crit\] in error.log$/m, 'runner: implicit crit check';
like $out, qr/^not ok \d+ - TEST 6: sections upstream would ignore - --- response_headers_like is ignored by upstream/m,
     'runner: a section upstream would ignore';
unlike $out, qr/^ok /m, 'runner: nothing passed by mistake' or diag $out;

# --- under upstream, Test::Parley::Blocks' hooks report failures too -----------
#
# Only with TEST_NGINX_UPSTREAM (make t-upstream sets it): a hook that never
# ran would make the ws_exchange tests of every file vanish, not fail.

SKIP: {
    my $up = $ENV{TEST_NGINX_UPSTREAM};
    skip 'TEST_NGINX_UPSTREAM is not set', 4 unless $up;
    open my $fh, '>', "$dir/upstream.t" or die;
    print $fh <<'EOF';
use Test::Nginx::Socket 'no_plan';
use Test::Parley::Blocks;
master_on();
no_shuffle();
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => <<'_EOC_');
    location /ws {
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
    }
_EOC_
});
run_tests();
__DATA__

=== TEST 1: an exchange that fails
--- ws_exchange
a< type=goodbye

=== TEST 2: an exchange that passes
--- ws_exchange
a< type=hello

=== TEST 3: an unexpected alert
--- main_config
    worker_rlimit_nofile 2000000000;
--- request
GET /

=== TEST 4: an expected alert
--- main_config
    worker_rlimit_nofile 2000000000;
--- request
GET /
--- error_log eval
qr/\[alert\] .*setrlimit/
EOF
    close $fh;
    my $port = Test::Parley::Ports::claim_tcp();
    my $out = do {
        local %ENV = %ENV;
        delete @ENV{qw(TEST_NGINX_SERVER_PORT TEST_NGINX_CLIENT_PORT)};
        @ENV{qw(TEST_NGINX_PORT TEST_NGINX_SERVROOT)} = ($port, "$dir/upstream-servroot");
        `$^X -I$up/lib -It/lib $dir/upstream.t 2>&1`;
    };
    like $out, qr/^not ok \d+ - \S+ TEST 1: an exchange that fails - ws_exchange line 1: a< type=goodbye$/m,
         'upstream: a failing ws_exchange fails';
    like $out, qr/^ok \d+ - \S+ TEST 2: an exchange that passes - ws_exchange$/m,
         'upstream: a passing one passes' or diag $out;
    like $out, qr/^not ok \d+ - \S+ TEST 3: an unexpected alert - no \[alert\] in error.log$/m,
         'upstream: an unexpected [alert] fails';
    unlike $out, qr/^not ok \d+ - \S+ TEST 4/m, 'upstream: an expected one does not'
        or diag $out;
}

__DATA__

=== TEST 1: a plain GET
--- config
    location /t { return 200 "hello\n"; }
--- request
GET /t
--- response_body
hello
--- response_headers
Content-Type: text/plain
Content-Length: 6
!X-Nope
--- no_error_log
[error]
[warn]



=== TEST 2: POST with a body and more_headers
--- config
    location /h { return 200 "$http_x_foo $request_method $content_length\n"; }
--- request
POST /h
hello world
--- more_headers
X-Foo: bar
--- response_body
bar POST 11



=== TEST 3: error_code and response_body_like
--- request
GET /nope
--- error_code: 404
--- response_body_like: 404 Not Found
--- error_log
No such file or directory



=== TEST 4: raw_request, HTTP/1.0
--- config
    location /t { return 200 "raw $server_protocol\n"; }
--- raw_request eval
"GET /t HTTP/1.0\r\nHost: x\r\n\r\n"
--- response_body
raw HTTP/1.0
--- response_headers
Connection: close



=== TEST 5: a chunked response
--- config
    location /c {
        sub_filter 'a' 'b';
        sub_filter_types text/plain;
        sub_filter_once off;
        return 200 "aaa\n";
    }
--- request
GET /c
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body
bbb



=== TEST 6: error_log with eval qr// and arrays
--- config
    location /missing { root /nonexistent; }
--- request
GET /missing
--- error_code: 404
--- error_log eval
[qr/open\(\) "\/nonexistent\/missing" failed/, "No such file"]
--- no_error_log eval
qr/\[crit\]/



=== TEST 7: must_die on a bad directive
--- config
    bogus_directive on;
--- must_die
--- error_log
unknown directive "bogus_directive"



=== TEST 8: must_die, error_log eval
--- http_config
    server { listen 127.0.0.1:$TEST_NGINX_PORT; location / { return 200; } }
    server { listen 127.0.0.1:$TEST_NGINX_PORT; invalid_in_server 1; }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid_in_server/



=== TEST 9: several requests, array expectations
--- config
    location /t { return 200 "t\n"; }
--- request eval
["GET /t", "GET /u"]
--- error_code eval
[200, 404]
--- response_body_like eval
["^t\$", "Not Found"]



=== TEST 10: a 101 answer checked with raw_request
--- ws_config
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    # then a close frame (masked, code 1000), so that the server closes
    . "\x88\x82\x00\x00\x00\x00\x03\xe8"
--- error_code: 101
--- response_headers_like
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=
Upgrade: (?i)websocket
--- raw_response_headers_like: ^HTTP/1.1 101 [^\r\n]+\r\n



=== TEST 11: grep_error_log
# one request (upstream checks grep_error_log after each request, against
# what that request logged): a missing file, then a missing error page
--- config
    location /missing { root /nonexistent; error_page 404 /missing-page; }
    location /missing-page { root /nonexistent; }
--- request
GET /missing
--- error_code: 404
--- grep_error_log eval
qr/open\(\) "[^"]+"/
--- grep_error_log_out
open() "/nonexistent/missing"
open() "/nonexistent/missing-page"



=== TEST 12: ws_exchange, the whole language
--- ws_config
--- ws_path
/ws?room=1
--- ws_headers
Origin: http://example.test
--- ws_exchange
# captures: a string and a number
alice< {"type":"hello","id":"$aid","n":"$n","path":"/ws?room=1","origin":"http://example.test"}
alice> {"type":"echo","data":{"id":"$aid","n":"$n","s":"id=$aid n=$n"}}
alice< {"type":"echoed","data":{"id":"$aid","n":7,"s":"*"}}
bob< type=hello n=7 id=*
bob> {"type":"echo","data":["$aid", true, null]}
bob< type=echoed data=*
alice> {"type":"echo","data":[1]}
alice< {"type":"echoed","data":["*"]}
alice> plain text
alice<text plain text
alice> {"type":"echo","data":"x"}
alice<~ ^\{"data":"x","type":"echoed"\}$
alice>binary 00ff10
alice<binary 00FF10
alice>ping hello
alice<pong hello
alice> {"type":"ping-me"}
alice< type=got-pong data=abc
alice>autopong 0
alice> {"type":"ping-me"}
alice<ping abc
alice<quiet 200
alice>autopong 1
alice>frame fin=0 opcode=1 text=ab
alice>frame fin=1 opcode=0 hex=6364
alice<text abcd
alice> {"type":"frag"}
alice<frame fin=0 opcode=1 text=fr
alice<frame fin=1 opcode=0 masked=0 text=ag
alice> {"type":"two"}
alice<! {"type":"second"}
alice< type=second
alice<quiet
sleep 0.05
alice>close 1000 done
alice<close 1000
bob> {"type":"close-me"}
bob<close 1008
carol>text-bytes c3 28
carol< type=hello
carol<close 1007
dave< type=hello
dave>raw 818a0000000061626364656667686970
dave<text abcdefghip
dave> {"type":"drop"}
dave<eof
erin<~ hello
erin>frame opcode=1 text=x len=1001
erin<close 1009
h>connect /forbidden
h<status 403
h<header Content-Type: text/html
h<header !Sec-WebSocket-Accept
--- no_error_log
[error]



=== TEST 13: an expected alert is allowed, and only the lines it matches
# each worker fails to raise its limit past fs.nr_open, and says so
--- main_config
    worker_rlimit_nofile 2000000000;
--- config
    location /t { return 200; }
--- request
GET /t
--- error_log eval
qr/\[alert\] .*setrlimit\(RLIMIT_NOFILE, 2000000000\) failed/
