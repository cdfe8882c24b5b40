# RFC 6455 framing as the parley signaling server applies it: masking,
# fragmentation, control frames, reserved bits and opcodes, the closing
# handshake, UTF-8, the message size limit, keepalive pings and the send
# buffer of a client that does not read.  The close codes are those of
# docs/protocol.md ("After the handshake the server closes the connection
# with these codes").
#
#   TEST_NGINX_LOAD_MODULES=$PWD/build/ngx_http_parley_module.so \
#       prove -It/lib t/003-frames.t

use Test::Nginx::Socket 'no_plan';
use Test::Parley::Blocks;
use Test::Parley::Server;
use Test::Parley::WebSocket;

repeat_each(1);
workers(1);
log_level('info');
no_shuffle();

run_tests();

# --- back-pressure: a client that does not read -----------------------------
#
# Plain Perl with parley's own helpers (Test::Parley::Server and
# Test::Parley::WebSocket, in t/lib under either harness).  The server's
# socket buffer is small (sndbuf=4k) and so is the client's (SO_RCVBUF), so
# that parley_send_buffer (1k) fills up after a few hundred answers.

back_pressure();

sub back_pressure {
    require Socket;
    require Time::HiRes;

    my $s = Test::Parley::Server->start(
        http_config => "    parley_zone parley 4m;\n",
        config      => <<'EOF');
        listen 127.0.0.1:$TEST_NGINX_PORT sndbuf=4k;
        location /ws {
            parley_signaling;
            parley_max_message_size 256;
            parley_send_buffer 1k;
            parley_message_rate off;
        }
EOF
    # {"type":"ping"} with a 64-byte ref, so that every pong is 87 bytes
    my $ref  = 'r' x 64;
    my $ping = qq({"type":"ping","ref":"$ref"});
    my $five = join '', map {
        Test::Parley::WebSocket::encode_frame(opcode => 1, payload => $ping) } 1 .. 5;

    # First a client that sends the same pings in the same batches of five,
    # but reads the answers: it is never cut off, so what follows measures
    # slow reading, not bursts.
    my $fast = Test::Parley::WebSocket->connect(port => $s->port);
    my $m = $fast->recv_json;
    is($m && $m->{type}, 'hello', 'back-pressure: a reading client gets hello');
    my ($sent, $answered) = (0, 0);
    for my $batch (1 .. 200) {
        $fast->send_raw($five);
        $sent += 5;
        while ($answered < $sent) {
            $m = $fast->recv_json(timeout => 3) or last;
            $answered++ if $m->{type} eq 'pong' && ($m->{ref} // '') eq $ref;
        }
        last if $answered < $sent;
    }
    is($answered, 1000, 'back-pressure: a client that reads gets all 1000 pongs');
    is($fast->close(1000), 1000, 'back-pressure: ... and closes normally');
    unlike($s->error_log, qr/client reads too slowly/,
           'back-pressure: ... and is not reported as slow');

    # Sends batches of five pings without reading until the server reports
    # the client; returns the number of pings sent then (0: never reported).
    my $flood = sub {
        my ($ws, $mark) = @_;
        setsockopt($ws->socket, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(), 4096)
            or diag("SO_RCVBUF: $!");
        my $n = 0;
        # at most 20000 pings: TCP buffers on loopback may hold hundreds of
        # kilobytes of answers before the server has to queue any
        for my $batch (1 .. 4000) {
            last unless $ws->send_raw($five);
            $n += 5;
            Time::HiRes::sleep(0.001);
            next if $batch % 10;
            return $n if $s->error_log($mark) =~ /client reads too slowly/;
        }
        return $s->wait_for_log(qr/client reads too slowly/, from => $mark, timeout => 10)
            ? $n : 0;
    };

    # A client that stops reading, and reads again once it has been
    # reported: it gets the answers queued before, the close frame 1008,
    # and the closing handshake completes.
    my $mark = $s->error_log_mark;
    my $slow = Test::Parley::WebSocket->connect(port => $s->port, rcvbuf => 4096);
    $m = $slow->recv_json;
    is($m && $m->{type}, 'hello', 'back-pressure: a slow client gets hello');
    ok(my $n = $flood->($slow, $mark),
       'back-pressure: error.log: "client reads too slowly"')
        or diag($s->error_log($mark));
    Test::More::note("reported after $n pings");
    like($s->error_log($mark),
         qr/\[info\].*parley: client reads too slowly, \d+ bytes queued, closing/,
         'back-pressure: ... at info, with the bytes queued');
    my ($pongs, $close) = (0);
    while ($m = $slow->recv_message(timeout => 3)) {
        if ($m->{type} eq 'text') { $pongs++; next }
        $close = $m;
        last;
    }
    is($close && $close->{type}, 'close', "back-pressure: then a close frame (after $pongs pongs)");
    is($close && $close->{code}, 1008, 'back-pressure: ... with code 1008');
    $slow->send_close(1008);
    ok($slow->wait_eof(timeout => 3), 'back-pressure: the server then closes the connection');
    $slow->disconnect;

    # A client that never reads again: the server gives up on the closing
    # handshake and closes the connection.
    $mark = $s->error_log_mark;
    my $dead = Test::Parley::WebSocket->connect(port => $s->port, rcvbuf => 4096);
    ok($flood->($dead, $mark), 'back-pressure: a client that never reads is reported too');
    ok($s->wait_for_log(qr/client did not finish the closing handshake/, from => $mark,
                        timeout => 8),
       'back-pressure: ... and dropped when it does not finish the closing handshake');
    ok($dead->wait_eof(timeout => 3), 'back-pressure: ... its connection is closed');
    $dead->disconnect;

    # the worker is fine afterwards
    my $next = Test::Parley::WebSocket->connect(port => $s->port);
    $m = $next->recv_json;
    is($m && $m->{type}, 'hello', 'back-pressure: a new connection gets hello');
    $next->send_json({ type => 'ping', ref => 1 });
    is_deeply($next->recv_json, { type => 'pong', ref => 1 }, 'back-pressure: ... and pong');
    is($next->close(1000), 1000, 'back-pressure: ... and closes normally');

    ok($s->stop, 'back-pressure: nginx stopped gracefully');
    unlike($s->error_log, qr/\[(alert|emerg|crit|error)\]/,
           'back-pressure: no [error], [crit], [alert] or [emerg]');
}

__DATA__

=== TEST 1: a masked text message {"type":"ping"} gets {"type":"pong"}, with "ref" echoed
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< {"type":"hello","protocol":1,"worker":0}
alice> {"type":"ping"}
alice<text {"type":"pong"}
alice> {"type":"ping","ref":"abc-1"}
alice< {"type":"pong","ref":"abc-1"}
alice> {"type":"ping","ref":42}
alice< {"type":"pong","ref":42}
alice<quiet
--- no_error_log
[error]



=== TEST 2: an unmasked client frame: close 1002, then the TCP connection is closed
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>frame fin=1 opcode=1 mask=0 text={"type":"ping"}
alice<close 1002
--- no_error_log
[error]



=== TEST 3: an unmasked frame is refused before it is read: no pong, only the close frame
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>frame fin=1 opcode=1 mask=0 text={"type":"ping"}
alice<frame fin=1 opcode=8 rsv=0 masked=0 hex=03ea
alice<eof



=== TEST 4: fragmentation: a text message in three frames
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>frame fin=0 opcode=1 text={"type
alice>frame fin=0 opcode=0 text=":"pi
alice>frame fin=1 opcode=0 text=ng","ref":"frag"}
alice< {"type":"pong","ref":"frag"}
alice<quiet
--- no_error_log
[error]



=== TEST 5: fragmentation: a ping between fragments is answered, the message still completes
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>frame fin=0 opcode=1 text={"type":
alice>ping between
alice<pong between
alice>frame fin=0 opcode=0 text="ping",
alice>frame fin=1 opcode=0 text="ref":7}
alice< {"type":"pong","ref":7}
alice<quiet
--- no_error_log
[error]



=== TEST 6: fragmentation: a continuation frame with no message started: 1002
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>frame fin=1 opcode=0 text={"type":"ping"}
alice<close 1002
bob< type=hello
bob>frame fin=0 opcode=0 text={"type":
bob>frame fin=1 opcode=0 text="ping"}
bob<close 1002
# after a complete fragmented message, a continuation starts nothing
carol< type=hello
carol>frame fin=0 opcode=1 text={"type":
carol>frame fin=1 opcode=0 text="ping"}
carol< type=pong
carol>frame fin=1 opcode=0 text={"type":"ping"}
carol<close 1002



=== TEST 7: fragmentation: a new data frame while a fragmented message is open: 1002
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>frame fin=0 opcode=1 text={"type":
alice>frame fin=1 opcode=1 text={"type":"ping"}
alice<close 1002
bob< type=hello
bob>frame fin=0 opcode=1 text={"type":
bob>frame fin=0 opcode=1 text="ping"
bob<close 1002
carol< type=hello
carol>frame fin=0 opcode=1 text={"type":
carol>frame fin=1 opcode=2 hex=00
carol<close 1002



=== TEST 8: a fragmented control frame (a ping with fin=0): 1002
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>frame fin=0 opcode=9 text=abc
alice<close 1002
bob< type=hello
bob>frame fin=0 opcode=10 text=abc
bob<close 1002
carol< type=hello
carol>frame fin=0 opcode=8 hex=03e8
carol<close 1002



=== TEST 9: a control frame with a payload longer than 125 bytes: 1002
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange eval
CORE::join "\n",
    'alice< type=hello',
    'alice>ping ' . ('p' x 125),
    'alice<pong ' . ('p' x 125),
    'alice>ping ' . ('p' x 126),
    'alice<close 1002',
    'bob< type=hello',
    'bob>frame fin=1 opcode=10 text=' . ('p' x 126),
    'bob<close 1002',
    'carol< type=hello',
    'carol>frame fin=1 opcode=8 hex=03e8' . ('61' x 124),
    'carol<close 1002',
    ''



=== TEST 10: a 64-bit payload length with its most significant bit set: 1002
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>raw 81ff 8000000000000000 00000000
alice<close 1002



=== TEST 11: reserved bits set: 1002
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>frame fin=1 opcode=1 rsv=4 text={"type":"ping"}
alice<close 1002
bob< type=hello
bob>frame fin=1 opcode=1 rsv=2 text={"type":"ping"}
bob<close 1002
carol< type=hello
carol>frame fin=1 opcode=1 rsv=1 text={"type":"ping"}
carol<close 1002
dave< type=hello
dave>frame fin=1 opcode=9 rsv=4 text=x
dave<close 1002



=== TEST 12: unknown opcodes: 1002
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>frame fin=1 opcode=3 text={"type":"ping"}
alice<close 1002
bob< type=hello
bob>frame fin=1 opcode=7 text=x
bob<close 1002
carol< type=hello
carol>frame fin=1 opcode=11 text=x
carol<close 1002
dave< type=hello
dave>frame fin=1 opcode=15 text=x
dave<close 1002



=== TEST 13: a binary frame: error binary_not_supported, the connection stays usable
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>binary 7b2274797065223a2270696e67227d
alice< {"type":"error","code":"binary_not_supported"}
alice> {"type":"ping","ref":"after-binary"}
alice< {"type":"pong","ref":"after-binary"}
alice>frame fin=0 opcode=2 hex=0102
alice>frame fin=1 opcode=0 hex=0304
alice< {"type":"error","code":"binary_not_supported"}
alice> {"type":"ping"}
alice< type=pong
alice<quiet
--- error_log
parley: refused a client message: binary_not_supported
--- no_error_log
[error]



=== TEST 14: a client ping is answered with a pong carrying the same payload
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>ping hello-parley
alice<frame fin=1 opcode=10 rsv=0 masked=0 text=hello-parley
alice>frame fin=1 opcode=9 hex=00ff7f80
alice<frame fin=1 opcode=10 rsv=0 masked=0 hex=00ff7f80
alice>ping
alice<frame fin=1 opcode=10 rsv=0 masked=0 hex=
alice>pong unsolicited
alice> {"type":"ping"}
alice< type=pong
alice<quiet
--- no_error_log
[error]



=== TEST 15: closing handshake: close 1000 is answered with close 1000, then TCP is closed
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>close 1000 bye
alice<frame fin=1 opcode=8 rsv=0 masked=0 code=1000
alice<eof
bob< type=hello
bob>close 1000
bob<close 1000
--- no_error_log
[error]
client did not finish the closing handshake



=== TEST 16: closing handshake: a close frame with no payload is answered
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>close
alice<frame fin=1 opcode=8 rsv=0 masked=0
alice<eof
--- no_error_log
[error]
client did not finish the closing handshake



=== TEST 17: after a close frame the server sends no more data
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"ping","ref":1}
alice>close 1000
alice> {"type":"ping","ref":2}
alice< {"type":"pong","ref":1}
alice<frame fin=1 opcode=8 rsv=0 masked=0 hex=03e8
alice<eof
--- no_error_log
[error]



=== TEST 18: close frame payloads: a code that may not be sent or a 1-byte body: 1002; a reason that is not UTF-8: 1007; codes 3000-4999 are echoed
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>close 1005
alice<close 1002
bob< type=hello
bob>close 999
bob<close 1002
carol< type=hello
carol>frame fin=1 opcode=8 hex=03e8c328
carol<close 1007
dave< type=hello
dave>close 4000 app-defined
dave<close 4000
erin< type=hello
erin>frame fin=1 opcode=8 hex=03
erin<close 1002



=== TEST 19: invalid UTF-8 in a text message: 1007
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>text-bytes c3 28
alice<close 1007
--- error_log
not valid UTF-8



=== TEST 20: an overlong encoding (c0 af) is invalid UTF-8: 1007
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>text-bytes 7b 22 74 79 70 65 22 3a 22 c0 af 22 7d
alice<close 1007
--- error_log
not valid UTF-8



=== TEST 21: a UTF-16 surrogate (ed a0 80) is invalid UTF-8: 1007
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>text-bytes 7b 22 74 79 70 65 22 3a 22 ed a0 80 22 7d
alice<close 1007
--- error_log
not valid UTF-8



=== TEST 22: more invalid UTF-8: past U+10FFFF, a truncated sequence, a lone continuation byte, and across fragments
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice>text-bytes f4 90 80 80
alice<close 1007
bob< type=hello
bob>text-bytes 22 e2 82
bob<close 1007
carol< type=hello
carol>text-bytes 22 80 22
carol<close 1007
dave< type=hello
dave>frame fin=0 opcode=1 hex=7b2274797065223a22c3
dave>frame fin=1 opcode=0 hex=28227d
dave<close 1007
--- error_log
not valid UTF-8



=== TEST 23: valid multi-byte UTF-8 in a name, also split between fragments
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Zoë 🎉"}
alice< {"type":"created","room":"$room","you":{"name":"Zoë 🎉","role":"organiser"},"participants":[{"name":"Zoë 🎉"}]}
bob< type=hello
bob>frame fin=0 opcode=1 hex=7b2274797065223a22637265617465222c226e616d65223a22f09f
bob>frame fin=1 opcode=0 hex=8e8943c3a9227d
bob< {"type":"created","you":{"name":"🎉Cé"}}
alice> {"type":"roster"}
alice< {"type":"roster","room":"$room","participants":[{"name":"Zoë 🎉"}]}
--- no_error_log
[error]
not valid UTF-8



=== TEST 24: parley_max_message_size 256: 250 and 256 bytes are fine, 257 and 300 close with 1009
--- http_config
    parley_zone parley 4m;
--- config
    location /ws {
        parley_signaling;
        parley_max_message_size 256;
    }
--- ws_exchange eval
# {"type":"ping","pad":"xxx..."} of exactly $n bytes (unknown members are ignored)
my $msg = sub { my $n = shift; '{"type":"ping","pad":"' . ('x' x ($n - 24)) . '"}' };
die unless length $msg->(250) == 250;
CORE::join "\n",
    'alice< type=hello',
    'alice> ' . $msg->(250),
    'alice<text {"type":"pong"}',
    'alice> ' . $msg->(256),
    'alice<text {"type":"pong"}',
    'alice> ' . $msg->(257),
    'alice<close 1009',
    'bob< type=hello',
    'bob> ' . $msg->(300),
    'bob<close 1009',
    ''
--- no_error_log
[error]



=== TEST 25: parley_max_message_size 256: a fragmented message is limited by its total size
--- http_config
    parley_zone parley 4m;
--- config
    location /ws {
        parley_signaling;
        parley_max_message_size 256;
    }
--- ws_exchange eval
CORE::join "\n",
    'alice< type=hello',
    # 200 + 56 = 256 bytes: fine
    'alice>frame fin=0 opcode=1 text={"type":"ping","pad":"' . ('x' x 178),
    'alice>frame fin=1 opcode=0 text=' . ('x' x 54) . '"}',
    'alice<text {"type":"pong"}',
    # 200 + 50 + 50 = 300 bytes, every frame below the limit
    'alice>frame fin=0 opcode=1 text={"type":"ping","pad":"' . ('x' x 178),
    'alice>frame fin=0 opcode=0 text=' . ('x' x 50),
    'alice>frame fin=1 opcode=0 text=' . ('x' x 48) . '"}',
    'alice<close 1009',
    ''
--- no_error_log
[error]



=== TEST 26: keepalive: the server pings within parley_ping_interval
--- http_config
    parley_zone parley 4m;
--- config
    location /ws {
        parley_signaling;
        parley_ping_interval 1s;
        parley_idle_timeout 2s;
    }
--- timeout: 1.5
--- ws_exchange
alice< type=hello
alice<frame fin=1 opcode=9 rsv=0 masked=0
alice>pong
alice<ping
alice> {"type":"ping"}
alice< type=pong
--- no_error_log
[error]
client silent



=== TEST 27: keepalive: a client that answers no ping and sends nothing is closed with 1008
--- http_config
    parley_zone parley 4m;
--- config
    location /ws {
        parley_signaling;
        parley_ping_interval 1s;
        parley_idle_timeout 2s;
    }
--- timeout: 1.75
--- ws_exchange
alice>autopong 0
alice< type=hello
alice<ping
alice<close 1008
--- error_log
client silent
--- no_error_log
[error]



=== TEST 28: keepalive: a client that answers pings stays connected past the idle timeout
--- http_config
    parley_zone parley 4m;
--- config
    location /ws {
        parley_signaling;
        parley_ping_interval 1s;
        parley_idle_timeout 2s;
    }
--- ws_exchange
alice< type=hello
alice<quiet 3500
alice> {"type":"ping"}
alice< type=pong
alice>close 1000
alice<close 1000
--- no_error_log
[error]
client silent
