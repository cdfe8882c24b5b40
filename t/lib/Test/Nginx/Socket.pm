package Test::Nginx::Socket;

=head1 NAME

Test::Nginx::Socket - parley's own data-driven nginx test runner

=head1 SYNOPSIS

    use Test::Nginx::Socket 'no_plan';
    use Test::Parley::Blocks;     # parley's sections; under either runner

    master_on(); workers(2); log_level('info'); no_shuffle();
    run_tests();

    __DATA__

    === TEST 1: hello
    --- config
        location /t { return 200 "hello\n"; }
    --- request
    GET /t
    --- response_body
    hello
    --- no_error_log
    [error]

Run with C<prove -It/lib t/> (C<make t>).  Written from scratch on
Test::Base, it runs the block format of OpenResty's Test::Nginx::Socket
(openresty/test-nginx), which runs the same files: C<make t-upstream
TEST_NGINX_UPSTREAM=/path/to/test-nginx> (F<tools/t-upstream.sh>) puts
upstream's lib first on C<@INC>, so that C<use Test::Nginx::Socket> loads
upstream's runner, and t/lib then gives parley's helpers, all named
C<Test::Parley::*>.  Every file passes under both.

=head1 TWO RUNNERS, ONE FORMAT

parley's runner behaves as upstream's wherever a file could tell: the same
defaults (one process without a master, log level C<debug>; set them per
file), the same generated server (a root location serving an F<index.html>
unless C<no_root_location()>), the same reading of an answer (until the
server closes the connection), the same matching (header C<_like> values
against the whole value, error log patterns line by line), and the same
extension points (C<add_block_preprocessor>, the last added running first;
C<add_response_body_check>; C<add_test_cleanup_handler>).

parley's additions live in L<Test::Parley::Blocks>, which registers them
through those extension points under either runner: the WebSocket sections
below, an empty C<--- config> for blocks without one, C<GET /> for a
C<ws_exchange> block without a request, and, under upstream (which only
warns), the implicit error log check.

Where they still differ: parley's runner starts a fresh nginx in the
foreground for every block and stops it (SIGQUIT) before it checks the
error log, so shutdown counts and "nginx stopped gracefully" is a test of
its own; upstream checks the log while nginx runs, and with several
requests after each one.  parley's runner also fails a block upstream would
accept but check less than it seems: one with both C<response_headers> and
C<response_headers_like> (upstream ignores the second), or
C<response_body> and C<response_body_like>, and one without a request
(upstream stops the whole file there).

=head1 CONVENTIONS FOR .t FILES

=over

=item *

A block file starts C<use Test::Nginx::Socket 'no_plan'; use
Test::Parley::Blocks;>.  Without the second line, its C<ws_exchange> blocks
have no request and fail.  Files that need nginx's worker processes
(several workers, reloads, kills, C<worker_*> directives) say
C<master_on()>; files that want quieter logs say C<log_level('info')>.

=item *

Every block that is not C<must_die> has a C<--- request> or
C<--- raw_request> (Test::Parley::Blocks gives a C<ws_exchange> block
C<GET />).  A file whose blocks define C<location /> calls
C<no_root_location()>: upstream always adds its own.

=item *

Every answer ends with the server closing the connection, as upstream reads
it: C<--- request> adds C<Connection: close>; a C<--- raw_request> says
C<Connection: close> (C<Connection: Upgrade, close> for a refused
WebSocket handshake), and a good handshake is followed by a close frame,
C<"\x88\x82\x00\x00\x00\x00\x03\xe8">.  parley's runner fails a block whose
server keeps the connection, with that explanation.

=item *

No fixed port: C<$TEST_NGINX_PORT> for the HTTP port, C<$TEST_NGINX_ICE_PORTS>
for C<parley_ice_ports> (see L<Test::Parley::Ports>); a block's config adds
no C<listen> of its own on the test port (upstream adds one).  In
C<--- error_log eval> and other Perl, C<$ENV{TEST_NGINX_ICE_PORTS}>.

=item *

Log expectations (C<error_log>, C<no_error_log>, C<grep_error_log>) go in
blocks with one request: with several, upstream checks them after each
request against what that request logged.

=item *

No sleep before an assertion: wait for a signal (a message, C<poll> in a
C<ws_exchange>, C<< $s->wait_for_log >>) or poll with a deadline.  Deadlines
are functional (seconds); a latency is measured in C<make bench>, never
asserted.  Assert counter differences around an action, not totals.

=item *

Every test that runs nginx asserts that F<error.log> has no C<[alert]>,
C<[crit]> or C<[emerg]> line it does not expect: blocks do implicitly
(below), plain Perl files with L<Test::Parley::ErrorLog>.  A new test is
shown to fail once, by breaking what it checks.

=back

=head1 HOW A BLOCK RUNS

For every block (and C<repeat_each> times) a fresh nginx is started:
servroot (C<$TEST_NGINX_SERVROOT>) is wiped, F<conf/nginx.conf> and
F<html/index.html> are written and C<$TEST_NGINX_BINARY -p servroot/ -c
conf/nginx.conf -e servroot/logs/error.log> runs in the foreground
(C<daemon off>), so nothing is written under /var.  The runner waits until
the pid file holds the child's pid, the port accepts connections and all
workers exist.  Then the requests are sent, each answer checked (and the
response body checks run: C<ws_exchange> after the last one), C<--- wait>
seconds pass, nginx is stopped with SIGQUIT (a failing test "nginx stopped
gracefully" if it had exited before, exits non-zero, or needs SIGKILL
after 10 s), and only then is F<error.log> checked, so shutdown messages
count too.

The generated nginx.conf:

    load_module ...;           # one per path in $TEST_NGINX_LOAD_MODULES
    daemon off; master_process on|off; worker_processes N;
    user root;                 # only when run as root, see below
    error_log servroot/logs/error.log LEVEL;  pid ...; lock_file ...;
    env NAME;                  # env_to_nginx()
    --- main_config
    events { worker_connections 1024; }
    http {
        access_log servroot/logs/access.log;
        *_temp_path servroot/*_temp;   default_type text/plain;
        --- http_config
        server {
            listen 127.0.0.1:PORT;     # left out if --- config has a listen
            server_name localhost;  client_max_body_size 30M;
            --- config
            location / { root servroot/html; }  # unless no_root_location()
        }
    }

As root, nginx would run its workers as "nobody", which cannot always reach
a servroot under /root or /work; the runner adds C<user root;> then (unless
C<--- main_config> has a C<user> directive), as upstream does.

C<$TEST_NGINX_PORT>, C<$TEST_NGINX_SERVER_PORT>, C<$TEST_NGINX_SERVROOT>,
C<$TEST_NGINX_HTML_DIR> and any C<$TEST_NGINX_FOO> set in the environment are
replaced in the config sections, C<request>, C<raw_request>, C<more_headers>,
C<ws_path> and C<ws_headers>.

Environment: TEST_NGINX_BINARY (F</usr/sbin/nginx>), TEST_NGINX_LOAD_MODULES
(space-separated .so paths), TEST_NGINX_MASTER_PROCESS (C<on>: the default
of C<master_on>), TEST_NGINX_LOG_LEVEL; TEST_NGINX_PORT, TEST_NGINX_ICE_PORTS
and TEST_NGINX_SERVROOT are claimed for each test process when unset (see
L<Test::Parley::Ports>: two runs on one machine never share them), and
TEST_NGINX_NO_CLEAN keeps a servroot that would be removed after a passing
run.

=head1 FUNCTIONS

C<run_tests>, C<repeat_each(N)>, C<workers(N)> (default 1), C<master_on> /
C<master_off> (default), C<log_level(LEVEL)> (default debug),
C<no_root_location>, C<env_to_nginx(NAME...)>, C<add_block_preprocessor(sub
{ my $block = shift; ... })>, C<add_response_body_check(sub { my ($block,
$body, $req_idx, $repeated_req_idx, $dry_run) = @_; ... })>,
C<add_test_cleanup_handler(sub { my $block = shift; ... })>, C<server_port>,
C<server_root>, C<html_dir>; C<no_shuffle> and C<no_long_string> are
accepted and do nothing (blocks always run in order; upstream shuffles them
unless C<no_shuffle()>).  Test::Base's and Test::More's functions (C<plan>,
C<blocks>, C<is>, ...) are exported too.  Without a plan, C<run_tests> uses
C<no_plan>.

=head1 SECTIONS

Section filters are Test::Base's: C<--- error_log eval> evaluates the text as
Perl, C<--- response_body chomp> drops the final newline, etc.  Blocks with
C<--- ONLY>, C<--- SKIP>, C<--- LAST> behave as in Test::Base.

=over

=item main_config, http_config, config

See the nginx.conf above.  C<--- log_level> overrides the log level for a block.

=item request

C<GET /t>, or C<POST /x> followed by body lines (the section is trimmed; the
body gets a Content-Length).  The protocol defaults to HTTP/1.1, with
C<Host: localhost> and C<Connection: close> unless C<--- more_headers> has
them.  With C<eval>, an array of requests is sent one after the other, and
C<error_code>, C<response_body> etc. may then be arrays too.

=item raw_request

Bytes sent as they are (use C<eval> for C<\r\n>); see the conventions
above for how they end.  The response is parsed by Content-Length, chunked
encoding or until the server closes; a C<101> response ends after its
header (what follows is read and dropped), so a WebSocket handshake (good
or bad) can be tested with C<raw_request> plus C<error_code> and
C<response_headers>.

=item more_headers

C<Name: value> lines added to the request.

=item error_code

Expected status (default 200); checked for every request unless
C<--- ignore_response> is present.  A request that fails (no answer, or a
connection the server does not close, within C<--- timeout> seconds,
default 3) fails this check, with a diagnostic.

=item response_body, response_body_like

Exact body; or a regex (string, or C<qr//> with C<eval>), matched with
C</s>.  One or the other.

=item response_headers, response_headers_like, raw_response_headers_like

C<Name: value> lines: exact values (repeated headers are joined with ", "),
C<!Name> for "absent"; or, in C<_like>, regexes that must match the whole
value (C<Content-Type: text/html(;.*)?>).  One or the other.
C<raw_response_headers_like> matches the header text, status line included.

=item error_log, no_error_log

One pattern per line, each a substring that must (not) occur in a line of
F<error.log>; with C<eval>, a C<qr//>, a string or an array of them.  One
test per pattern.  For C<must_die> blocks the text checked is F<error.log>
plus nginx's stderr.

Implicitly, every block that is not C<must_die> fails if F<error.log> has an
C<[alert]>, C<[crit]> or C<[emerg]> line that no pattern of its C<error_log>
matches (expecting one alert excuses that line, not the level).  This check
only shows up as a test when it fails.

=item grep_error_log, grep_error_log_out

The match of a substring (or C<qr//> with C<eval>) in each line of
F<error.log> that has one, each followed by a newline, compared with
C<grep_error_log_out>.

=item must_die

nginx must fail to start (one test, "nginx failed to start as expected");
no request is sent.  Use C<error_log> to check the reason, e.g.

    --- config
        parley_bogus on;
    --- must_die
    --- error_log
    unknown directive "parley_bogus"

=item timeout, wait

Read timeout in seconds for requests and WebSocket reads (default 3); seconds
to sleep before nginx is stopped and the logs are checked.

=back

=head1 WEBSOCKET SECTIONS

Given by L<Test::Parley::Blocks>, under either runner.

=over

=item ws_exchange

A script run after the block's last request, while nginx runs.  It is one
test, "TEST n: name - ws_exchange"; the script stops at the first line
that fails, and the test fails with that line's number, its text and what
was received instead.  Every read waits at most C<--- timeout> seconds
(default 3).

=item ws_path

The handshake path for clients (default C</ws>).

=item ws_headers

C<Name: value> lines added to every client's handshake; they replace the
default header of that name (Host, Upgrade, Connection, Sec-WebSocket-Key,
Sec-WebSocket-Version), and C<!Name> removes it.

=back

=head2 The ws_exchange language

One step per line.  Blank lines and lines starting with C<#> are ignored.
Clients are named by a word (C<alice>, C<c1>); a client connects to
C<ws_path> on its first line.  A connection that fails (non-101 answer) is
not an error by itself: the C<< <status >> line can check it, and any other
line of that client then fails with "not connected".

After the name, C<< > >> sends and C<< < >> receives.  Followed by a space, the
rest of the line is a message; followed directly by a word, it is a command.

Sending:

    alice> {"type":"create","name":"Alice"}    a text frame (masked, as from a browser)
    alice>text some text                       the same
    alice>binary 0102ff                        a binary frame, payload in hex
    alice>text-bytes c3 28                     a text frame with these bytes (bad UTF-8)
    alice>ping hello                           a ping (payload optional)
    alice>pong hello                           an unsolicited pong
    alice>close 1000 bye                       a close frame (code and reason optional;
                                               no code = empty payload)
    alice>frame fin=0 opcode=1 hex=414243      a frame with explicit bits: fin (1),
                                               opcode (number), mask (1; 0 = unmasked),
                                               rsv (0..7, 4 = RSV1), hex=... or text=...,
                                               len=N to declare a false payload length
    alice>raw 8185...                          raw bytes, in hex (spaces allowed)
    alice>connect /ws?room=1                   connect now, to another path
    alice>disconnect                           drop the TCP connection, no close frame
    alice>autopong 0                           stop answering pings (1: answer again)

A send to a connection the server has already closed is not an error; the
next C<< < >> line will show what happened.

Receiving (pings are answered with a pong automatically and skipped, pongs
are skipped, fragmented messages are reassembled):

    alice< {"type":"created","room":"$room"}   the next message is a text message
                                               holding JSON of which this is a subset
    alice< type=participant-joined participant.name=Bob
                                               the same, in key=value shorthand (dots
                                               for nesting; values without spaces,
                                               numbers/true/false/null/"..." are JSON)
    alice<! {"type":"error"}                   the next message must NOT match
    alice<text hello                           the next message is exactly this text
    alice<~ ^\{"type":"hello"                  the next text message matches a regex
    alice<binary 0102ff                        the next message is this binary
    alice<close 1009                           the next thing is a close frame (with
                                               that code, if given); the client answers
                                               it and the server must then close TCP
    alice<eof                                  the server closes the TCP connection
                                               (a close frame before that is allowed,
                                               a data message is not)
    alice<quiet 300                            no data message for 300 ms (default 300)
    alice<ping hello                           a ping arrives (payload optional)
    alice<pong hello                           a pong arrives (payload optional)
    alice<frame fin=1 opcode=1 rsv=0 masked=0  the next raw frame has these bits
                                               (also hex=..., text=...; no reassembly,
                                               no automatic pong)
    alice<status 403                           the handshake got this HTTP status
    alice<header Sec-WebSocket-Protocol: chat  ... and this response header (!Name: absent)
    poll /status ^parley_rooms 0$              GET the page until its body matches
                                               (multi-line regex), within the timeout:
                                               to wait for what no client is told
    sleep 0.2                                  pause (seconds): pacing only, never to
                                               wait for the server before a check

JSON matching: objects match when every expected key is present with a
matching value (extra keys are fine), arrays when they have the same length
and match element by element, scalars when they are equal and of the same
JSON type (C<"17"> does not match C<17>).  The string C<"*"> matches any value.
The string C<"$name"> captures the received value into the variable C<name>
when it is not set yet, or must equal the value captured before; captures of
a line are only kept when the whole line matched.  Variables are shared by all
clients of the script.  In a sent message, C<"$name"> (with the quotes) is
replaced by the JSON encoding of the value (a number stays a number), and a
bare C<$name> by its text (e.g. inside a longer string); a quoted C<"$name">
that was never captured makes the line fail.

Example:

    --- ws_exchange
    alice< {"type":"hello","protocol":1}
    alice> {"type":"create","name":"Alice"}
    alice< {"type":"created","room":"$room","you":{"id":"$alice"}}
    bob< type=hello
    bob> {"type":"join","room":"$room","name":"Bob"}
    bob< {"type":"joined","room":"$room"}
    alice< {"type":"participant-joined","participant":{"name":"Bob"}}
    alice>text-bytes c3 28
    alice<close 1007

=head1 PLAIN PERL TESTS

For multi-worker, reload and crash scenarios, use parley's helpers
directly (with Test::More); they are the same under either runner:

    use Test::Parley::Server;       # also claims ports (Test::Parley::Ports)
    use Test::Parley::WebSocket;
    use Test::Parley::WebSocket::Exchange;
    use Test::Parley::Clients;      # clients placed on given workers
    use Test::Parley::ErrorLog;

    my $s = Test::Parley::Server->start(config => $conf, workers => 2,
                http_config => ..., main_config => ...);   # dies if it fails
    $s->port; $s->servroot; $s->pid;
    my $r = $s->http(path => '/t');          # {status, headers, body, error}
    my @pids = $s->worker_pids;
    my @new = $s->kill_worker($pids[0], 'KILL');   # waits for the respawn
    my @after = $s->reload(config => $new_conf);   # () if the reload failed
    my $mark = $s->error_log_mark;  ...;  $s->error_log($mark);  # log since mark
    $s->wait_for_log(qr/.../, timeout => 3, from => $mark);
    ok($s->stop, 'nginx stops gracefully');  # also done when $s goes away
    my @bad = Test::Parley::ErrorLog::unexpected($s->error_log, @expected);

    my $ws = Test::Parley::WebSocket->connect(port => $s->port, path => '/ws',
                headers => { Origin => 'http://x' });
    $ws->handshake_status; $ws->handshake_headers->{upgrade}; $ws->is_open;
    $ws->send_text($str); $ws->send_json({...}); $ws->send_binary($bytes);
    $ws->send_ping; $ws->send_close(1000); $ws->send_frame(fin => 0, opcode => 1,
                mask => 1, rsv => 0, payload => 'x'); $ws->send_raw($bytes);
    my $msg = $ws->recv_json(timeout => 3);  # undef on timeout/close/eof
    my $m = $ws->wait_for(sub { $_[0]{type} eq 'joined' }, timeout => 3);
    my $f = $ws->recv_frame; my $msg = $ws->recv_message(control => 1);
    my $code = $ws->close(1000);             # the server's close code

    Test::Parley::WebSocket::Exchange::exchange_ok(port => $s->port,
        path => '/ws', script => $script, name => 'two peers');

A file that mixes blocks and plain Perl (t/000, t/003) runs its blocks
first: under upstream, the last block's nginx still runs in the same
servroot, and C<Test::Parley::Server> stops it before it starts its own.

=cut

use Test::Base -base;    # lower-case -base: inherit, no source filter
use Test::Parley::ErrorLog;
use Test::Parley::HTTP;
use Test::Parley::Server;
use Time::HiRes ();

our $VERSION = '0.02';

our @EXPORT = qw(
    run_tests repeat_each workers master_on master_off no_shuffle
    log_level no_root_location no_long_string env_to_nginx
    add_block_preprocessor add_response_body_check add_test_cleanup_handler
    server_port server_root html_dir
);

# Defaults as upstream's: one process without a master, debug log level.
my $RepeatEach   = 1;
my $Workers      = 1;
my $Master       = ($ENV{TEST_NGINX_MASTER_PROCESS} // 'off') eq 'on';
my $LogLevel     = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
my $RootLocation = 1;
my @EnvToNginx;
my (@Preprocessors, @ResponseBodyChecks, @TestCleanupHandlers);

sub repeat_each (@)    { $RepeatEach = shift if @_; $RepeatEach }
sub workers (@)        { $Workers = shift if @_; $Workers }
sub master_on ()       { $Master = 1 }
sub master_off ()      { $Master = 0 }
sub log_level (@)      { $LogLevel = shift if @_; $LogLevel }
sub no_root_location () { $RootLocation = 0 }
sub env_to_nginx (@)   { push @EnvToNginx, @_ }
sub no_shuffle ()      { }    # blocks always run in file order
sub no_long_string ()  { }
sub server_port ()     { $ENV{TEST_NGINX_PORT} }    # see Test::Parley::Ports
sub server_root ()     { $ENV{TEST_NGINX_SERVROOT} }
sub html_dir ()        { "$ENV{TEST_NGINX_SERVROOT}/html" }

# Extension points, called as upstream calls them: the preprocessor added
# last runs first.
sub add_block_preprocessor (&) { unshift @Preprocessors, shift }
sub add_response_body_check ($) { push @ResponseBodyChecks, shift }
sub add_test_cleanup_handler ($) { unshift @TestCleanupHandlers, shift }

sub run_tests () {
    # no plan given: no_plan (through Test::Base, whose END block checks it)
    Test::More::plan('no_plan') unless Test::More->builder->has_plan;
    for my $block (Test::Base::blocks()) {
        $_->($block) for @Preprocessors;
        run_block($block) for 1 .. $RepeatEach;
        $_->($block) for @TestCleanupHandlers;
    }
}

# The value of a section for request number $i (an eval'd section may hold
# an array with one entry per request).
sub _nth {
    my ($v, $i) = @_;
    return ref $v eq 'ARRAY' ? $v->[$i] : $v;
}

# The last lines of a log, for diagnostics.
sub _tail {
    my ($log, $n) = @_;
    my @l = split /\n/, $log;
    return join "\n", @l > $n ? ('...', @l[-$n .. -1]) : @l;
}

sub run_block {
    my ($block) = @_;
    my $name = $block->name;
    (my $log_level = $block->log_level // $LogLevel) =~ s/\s+//g;
    my $server = Test::Parley::Server->new(
        workers => $Workers, master => $Master, env => \@EnvToNginx,
        log_level => $log_level, root_location => $RootLocation,
        main_config => scalar $block->main_config, http_config => scalar $block->http_config,
        config => scalar $block->config,
    );

    if (defined $block->must_die) {
        my $up = $server->launch(expect_fail => 1);
        ok(!$up, "$name - nginx failed to start as expected");
        $server->stop if $up;
        check_logs($block, $name, $server->error_log . $server->stderr_text, 1);
        return;
    }

    # as upstream, which refuses such a block (Test::Parley::Blocks gives
    # a block with a ws_exchange one)
    my @requests = build_requests($block, $server);
    unless (@requests) {
        fail("$name - request empty");
        return;
    }

    unless ($server->launch) {
        fail("$name - nginx started");
        diag($server->startup_output);
        return;
    }

    my $timeout = $block->timeout // 3;
    for my $i (0 .. $#requests) {
        my $r = Test::Parley::HTTP::request(port => $server->port, raw => $requests[$i][0],
            head => $requests[$i][1], timeout => $timeout, until_close => 1);
        check_response($block, @requests > 1 ? "$name (req $i)" : $name, $r, $i);
    }

    Time::HiRes::sleep($block->wait) if $block->wait;
    unless ($server->stop) {
        fail("$name - nginx stopped gracefully");
        diag($server->{stop_error});
    }
    check_logs($block, $name, $server->error_log, 0);
}

# [raw request bytes, is_head] for each request of the block.
sub build_requests {
    my ($block, $server) = @_;
    if (defined(my $raw = $block->raw_request)) {
        return map { [$server->subst($_), 0] } ref $raw eq 'ARRAY' ? @$raw : $raw;
    }
    my $req = $block->request // return ();
    my @more = grep { /\S/ } split /\n/, $server->subst($block->more_headers // '');
    my @out;
    for my $r (ref $req eq 'ARRAY' ? @$req : $req) {
        $r = $server->subst($r);
        $r =~ s/^\s+|\s+$//g;
        my ($line, $body) = split /\n/, $r, 2;
        my ($method, $uri, $proto) = split ' ', $line;
        $proto //= 'HTTP/1.1';
        my %have = map { /^\s*([^:\s]+)/ ? (lc $1 => 1) : () } @more;
        my $raw = "$method $uri $proto\r\n";
        $raw .= "Host: localhost\r\n" unless $have{host};
        $raw .= "Connection: close\r\n" unless $have{connection} || $proto eq 'HTTP/1.0';
        $raw .= "$_\r\n" for @more;
        $raw .= "Content-Length: " . length($body) . "\r\n"
            if defined $body && !$have{'content-length'} && !$have{'transfer-encoding'};
        $raw .= "\r\n" . ($body // '');
        push @out, [$raw, $method eq 'HEAD'];
    }
    return @out;
}

# Sections upstream ignores when another is present: a block that has both
# would check less under upstream than it seems to.
my @Shadowed = ([qw(response_headers response_headers_like)],
                [qw(response_body response_body_like)]);

sub check_response {
    my ($block, $name, $r, $i) = @_;
    return if defined $block->ignore_response;
    for (@Shadowed) {
        my ($first, $second) = @$_;
        next unless defined $block->$first && defined $block->$second;
        fail("$name - --- $second is ignored by upstream when --- $first is present");
        diag("move the lines of --- $first into --- $second, as regexes");
    }
    my $status = $r->{status};
    if ($r->{error}) {
        diag("$name: $r->{error}");
        $status //= 'none';
    }
    is($status, _nth(scalar $block->error_code, $i) // 200, "$name - status code ok");

    # as upstream: response_headers_like only when there is no
    # response_headers, and its values match the whole header value
    my $h = $r->{headers} // {};
    if (defined(my $want = _nth(scalar $block->response_headers, $i))) {
        for my $line (split /\n/, $want) {
            if ($line =~ /^\s*!\s*(\S+)\s*$/) {
                ok(!defined $h->{ lc $1 }, "$name - header $1 absent")
                    or diag("got $1: $h->{lc $1}");
            } elsif ($line =~ /^\s*([^:\s]+)\s*:\s*(.*?)\s*$/) {
                is($h->{ lc $1 }, $2, "$name - header $1 ok");
            }
        }
    } elsif (defined(my $like = _nth(scalar $block->response_headers_like, $i))) {
        for my $line (split /\n/, $like) {
            next unless $line =~ /^\s*([^:\s]+)\s*:\s*(.*?)\s*$/;
            like($h->{ lc $1 } // '', qr/^$2$/, "$name - header $1 like ok");
        }
    }
    if (defined(my $re = _nth(scalar $block->raw_response_headers_like, $i))) {
        like($r->{raw_headers} // '', ref $re ? $re : qr/$re/s,
             "$name - raw_response_headers_like ok");
    }
    if (defined(my $want = _nth(scalar $block->response_body, $i))) {
        is($r->{body}, $want, "$name - response_body - response is expected");
    } elsif (defined(my $re = _nth(scalar $block->response_body_like, $i))) {
        like($r->{body} // '', ref $re ? $re : qr/$re/s,
             "$name - response_body_like - response is expected");
    }
    $_->($block, $r->{body}, $i, 0, 0) for @ResponseBodyChecks;
}

# As upstream, each pattern is matched against each line of the log.
sub check_logs {
    my ($block, $name, $log, $must_die) = @_;
    my @lines = split /\n/, $log;
    my $found = sub {
        my ($p) = @_;
        grep { Test::Parley::ErrorLog::matches($_, $p) } @lines;
    };
    my @want = Test::Parley::ErrorLog::patterns($block->error_log);
    for my $p (@want) {
        ok(scalar $found->($p), "$name - error_log: \"$p\" found")
            or diag("error.log:\n" . _tail($log, 40));
    }
    for my $p (Test::Parley::ErrorLog::patterns($block->no_error_log)) {
        my @hits = $found->($p);
        ok(!@hits, "$name - no_error_log: \"$p\" not found") or diag("found: " . join "\n", @hits);
    }
    if (defined(my $pat = $block->grep_error_log)) {
        $pat =~ s/\n$// unless ref $pat;
        my $re = ref $pat ? $pat : qr/\Q$pat\E/;
        my $out = join '', map { /$re/ ? "$&\n" : () } @lines;
        my $want = $block->grep_error_log_out // '';
        ref $want ? like($out, $want, "$name - grep_error_log_out ok")
                  : is($out, $want, "$name - grep_error_log_out ok");
    }
    return if $must_die;
    # Implicit check, only reported when it fails (so the number of tests
    # stays that of upstream Test::Nginx): no [alert], [crit] or [emerg]
    # line that no --- error_log pattern matches.
    my @bad = Test::Parley::ErrorLog::unexpected($log, @want);
    for my $level (@Test::Parley::ErrorLog::Levels) {
        my @hits = grep { /\[$level\]/ } @bad;
        next unless @hits;
        fail("$name - no [$level] in error.log");
        diag(join "\n", @hits);
    }
}

1;
