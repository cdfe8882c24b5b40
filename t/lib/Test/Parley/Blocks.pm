package Test::Parley::Blocks;

# parley's additions to the Test::Nginx block format, for whichever block
# runner `use Test::Nginx::Socket` loaded: parley's own (t/lib) or
# OpenResty's (openresty/test-nginx).  A .t file in the block format starts
#
#   use Test::Nginx::Socket 'no_plan';
#   use Test::Parley::Blocks;
#
# and the additions hook into the runner's extension points, which both
# runners have:
#
# add_block_preprocessor
#   Every block gets what upstream requires of it.  A block without
#   --- config gets an empty one: upstream would keep the previous block's
#   nginx for it, and send it that block's request.  A block with
#   --- ws_exchange and neither --- request nor --- raw_request gets
#   "GET /" (the root location's index.html, 200): upstream refuses a block
#   without a request.
#
# add_response_body_check
#   After the block's last request, --- ws_exchange runs (one test,
#   "NAME - ws_exchange"), with --- ws_path and --- ws_headers; nginx is
#   still running then, and the error log is checked afterwards.  See
#   "WEBSOCKET SECTIONS" in the POD of t/lib/Test/Nginx/Socket.pm.
#
# add_test_cleanup_handler (upstream only)
#   Upstream only warns about [alert], [crit] and [emerg] lines; this fails
#   the block instead, unless a pattern of its --- error_log matches the
#   line (Test::Parley::ErrorLog).  parley's runner makes the same check
#   itself, after nginx has stopped.
#
# Under upstream, it also sets TEST_NGINX_PORT to the port upstream's nginx
# listens on (upstream prefers TEST_NGINX_SERVER_PORT) and fills in
# TEST_NGINX_SERVROOT; under either runner, TEST_NGINX_ICE_PORTS (see
# Test::Parley::Ports), so that config sections can use it.

use strict;
use warnings;
use Test::More ();
use Test::Nginx::Socket ();
use Test::Parley::ErrorLog;
use Test::Parley::Ports;
use Test::Parley::WebSocket::Exchange;

# Upstream's runner is built on Test::Nginx::Util; parley's has no such
# module.
our $Upstream = exists $INC{'Test/Nginx/Util.pm'};

if ($Upstream) {
    $ENV{TEST_NGINX_PORT} = Test::Nginx::Socket::server_port();
    $ENV{TEST_NGINX_SERVROOT} //= Test::Nginx::Socket::server_root();
}

# Where clients connect (upstream: TEST_NGINX_CLIENT_PORT, if set).
sub client_port {
    return $Upstream ? Test::Nginx::Socket::server_port_for_client() : $ENV{TEST_NGINX_PORT};
}
Test::Parley::Ports::setup();

Test::Nginx::Socket::add_block_preprocessor(\&complete_block);
Test::Nginx::Socket::add_response_body_check(\&ws_exchange_check);
Test::Nginx::Socket::add_test_cleanup_handler(\&error_log_check) if $Upstream;

sub complete_block {
    my ($block) = @_;
    $block->set_value(config => '') unless defined $block->config;
    $block->set_value(request => "GET /\n")
        if defined $block->ws_exchange
        && !defined $block->request && !defined $block->raw_request;
}

# $TEST_NGINX_FOO from the environment, as upstream expands config sections
sub expand {
    my ($text) = @_;
    return $text unless defined $text;
    $text =~ s{\$(TEST_NGINX_\w+)}{
        $ENV{$1} // ($1 eq 'TEST_NGINX_SERVER_PORT' ? $ENV{TEST_NGINX_PORT} : "\$$1")
    }ge;
    return $text;
}

sub _last_request_index {
    my ($block) = @_;
    my $req = $block->request;
    return ref $req eq 'ARRAY' ? $#$req : 0;
}

sub ws_exchange_check {
    my ($block, $body, $req_idx, $repeated_req_idx, $dry_run) = @_;
    my $script = $block->ws_exchange;
    return unless defined $script && $req_idx == _last_request_index($block);
    my $name = $block->name;
    SKIP: {
        Test::More::skip("$name - ws_exchange - tests skipped due to $dry_run", 1)
            if $dry_run;
        my @headers = map {
            /^\s*!\s*(\S+)/ ? ($1 => undef) : /^\s*([^:\s]+)\s*:\s*(.*?)\s*$/ ? ($1 => $2) : ()
        } split /\n/, expand($block->ws_headers // '');
        (my $path = expand($block->ws_path // '/ws')) =~ s/\s+$//;
        my $r = Test::Parley::WebSocket::Exchange->run(
            port => client_port(), path => $path, headers => \@headers,
            timeout => $block->timeout // 3, script => $script);
        local $Test::Builder::Level = $Test::Builder::Level + 1;
        if ($r->{ok}) {
            Test::More::pass("$name - ws_exchange");
        } else {
            Test::More::fail("$name - ws_exchange line $r->{line}: $r->{text}");
            Test::More::diag("ws_exchange line $r->{line}: $r->{text}\n  $r->{error}");
        }
    }
}

sub error_log_check {
    my ($block) = @_;
    return if defined $block->must_die || defined $block->SKIP;
    my $file = Test::Nginx::Socket::server_root() . '/logs/error.log';
    open my $fh, '<', $file or return;
    my $log = do { local $/; <$fh> };
    close $fh;
    my @bad = Test::Parley::ErrorLog::unexpected($log,
        Test::Parley::ErrorLog::patterns($block->error_log));
    for my $level (@Test::Parley::ErrorLog::Levels) {
        my @hits = grep { /\[$level\]/ } @bad;
        next unless @hits;
        Test::More::fail($block->name . " - no [$level] in error.log");
        Test::More::diag(join "\n", @hits);
    }
}

1;
