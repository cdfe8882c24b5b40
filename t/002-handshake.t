# The WebSocket opening handshake (RFC 6455 4.2) on a parley_signaling
# location: the 101 answer, the greeting that follows it, and the plain HTTP
# refusals of docs/protocol.md ("Handshake failures"), each logged at info
# as "parley: WebSocket handshake refused: <reason>".
#
#   TEST_NGINX_LOAD_MODULES=$PWD/build/ngx_http_parley_module.so \
#       prove -It/lib t/002-handshake.t

use Test::Nginx::Socket 'no_plan';
use Test::Parley::Blocks;

log_level('info');
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a good handshake answers 101 (RFC 6455 sample key)
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    # then a close frame (masked, code 1000), so that the server closes
    . "\x88\x82\x00\x00\x00\x00\x03\xe8"
--- error_code: 101
--- response_headers
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
Upgrade: websocket
Connection: Upgrade
--- raw_response_headers_like: ^HTTP/1.1 101 Switching Protocols\r\n
--- no_error_log
[error]
handshake refused



=== TEST 2: after the 101, the first message is hello
# (the client checks Sec-WebSocket-Accept against its own random key)
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
c<status 101
c<header Upgrade: websocket
c<header Connection: Upgrade
c< {"type":"hello","protocol":1}
--- no_error_log
[error]



=== TEST 3: Connection with several tokens ("keep-alive, Upgrade")
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_headers
Connection: keep-alive, Upgrade
--- ws_exchange
c<status 101
c< {"type":"hello","protocol":1}
--- no_error_log
handshake refused



=== TEST 4: Upgrade and Connection values are case-insensitive
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_headers
Upgrade: WebSocket
Connection: UPGRADE
--- ws_exchange
c<status 101
c<header Upgrade: websocket
c< {"type":"hello","protocol":1}
--- no_error_log
handshake refused



=== TEST 5: POST is refused with 405 and Allow: GET
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- raw_request eval
"POST /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 5\r\n\r\nhello"
--- error_code: 405
--- response_headers
Allow: GET
!Sec-WebSocket-Accept
--- error_log
parley: WebSocket handshake refused: the method must be GET



=== TEST 6: HTTP/1.0 is refused with 400
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- raw_request eval
"GET /ws HTTP/1.0\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
--- error_code: 400
--- response_headers
!Sec-WebSocket-Accept
--- error_log
parley: WebSocket handshake refused: the protocol must be HTTP/1.1



=== TEST 7: no Upgrade header: 426 Upgrade Required with Upgrade: websocket
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
--- error_code: 426
--- raw_response_headers_like eval
qr{^HTTP/1.1 426 Upgrade Required\r\n(?s:.*)\r\nConnection: close\r\n(?s:.*)\r\nConnection: upgrade(?:\r\n|$)}
--- response_headers
Upgrade: websocket
!Sec-WebSocket-Accept
--- error_log
parley: WebSocket handshake refused: "Upgrade: websocket" and "Connection: Upgrade" are required



=== TEST 8: Upgrade to another protocol: 426
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
--- error_code: 426
--- response_headers
Upgrade: websocket
--- error_log
parley: WebSocket handshake refused: "Upgrade: websocket" and "Connection: Upgrade" are required



=== TEST 9: no "upgrade" token in Connection: 426
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
--- error_code: 426
--- raw_response_headers_like: ^HTTP/1.1 426 Upgrade Required\r\n
--- response_headers
Upgrade: websocket
!Sec-WebSocket-Accept
--- error_log
parley: WebSocket handshake refused: "Upgrade: websocket" and "Connection: Upgrade" are required



=== TEST 10: a Connection token that only contains "upgrade" is not it
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: x-upgrade-please\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
--- error_code: 426
--- error_log
parley: WebSocket handshake refused: "Upgrade: websocket" and "Connection: Upgrade" are required



=== TEST 11: Sec-WebSocket-Version 8: 426 with Sec-WebSocket-Version: 13
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"
--- error_code: 426
--- raw_response_headers_like: ^HTTP/1.1 426 Upgrade Required\r\n
--- response_headers
Sec-WebSocket-Version: 13
!Sec-WebSocket-Accept
--- error_log
parley: WebSocket handshake refused: "Sec-WebSocket-Version" must be 13



=== TEST 12: Sec-WebSocket-Version missing: 426 with Sec-WebSocket-Version: 13
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
--- error_code: 426
--- raw_response_headers_like: ^HTTP/1.1 426 Upgrade Required\r\n
--- response_headers
Sec-WebSocket-Version: 13
--- error_log
parley: WebSocket handshake refused: "Sec-WebSocket-Version" must be 13



=== TEST 13: Sec-WebSocket-Key missing: 400
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Version: 13\r\n\r\n"
--- error_code: 400
--- response_headers
!Sec-WebSocket-Accept
--- error_log
parley: WebSocket handshake refused: "Sec-WebSocket-Key" must be the base64 of 16 bytes



=== TEST 14: Sec-WebSocket-Key not base64 (24 characters): 400
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==\r\nSec-WebSocket-Version: 13\r\n\r\n"
--- error_code: 400
--- error_log
parley: WebSocket handshake refused: "Sec-WebSocket-Key" must be the base64 of 16 bytes



=== TEST 15: Sec-WebSocket-Key is the base64 of 15 bytes: 400
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25j\r\nSec-WebSocket-Version: 13\r\n\r\n"
--- error_code: 400
--- error_log
parley: WebSocket handshake refused: "Sec-WebSocket-Key" must be the base64 of 16 bytes



=== TEST 16: Sec-WebSocket-Key is 24 characters of base64 of 18 bytes: 400
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZSEh\r\nSec-WebSocket-Version: 13\r\n\r\n"
--- error_code: 400
--- error_log
parley: WebSocket handshake refused: "Sec-WebSocket-Key" must be the base64 of 16 bytes



=== TEST 17: parley_allowed_origins: a listed Origin is accepted
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; parley_allowed_origins https://good.example; }
--- ws_headers
Origin: https://good.example
--- ws_exchange
c<status 101
c< {"type":"hello","protocol":1}
--- no_error_log
handshake refused



=== TEST 18: parley_allowed_origins: another Origin is refused with 403
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; parley_allowed_origins https://good.example; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: https://evil.example\r\n\r\n"
--- error_code: 403
--- response_headers
!Sec-WebSocket-Accept
--- error_log
parley: WebSocket handshake refused: the origin is not allowed



=== TEST 19: parley_allowed_origins: no Origin is refused with 403
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; parley_allowed_origins https://good.example; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
--- error_code: 403
--- error_log
parley: WebSocket handshake refused: the origin is not allowed



=== TEST 20: parley_allowed_origins: a prefix of a listed Origin is refused
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; parley_allowed_origins https://good.example; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: https://good.example.evil.example\r\n\r\n"
--- error_code: 403
--- error_log
parley: WebSocket handshake refused: the origin is not allowed



=== TEST 21: parley_allowed_origins set at http level, one of several
--- http_config
    parley_zone parley 4m;
    parley_allowed_origins https://a.example http://good.example:8080;
--- config
    location /ws { parley_signaling; }
--- ws_headers
Origin: http://good.example:8080
--- ws_exchange
c<status 101
c< {"type":"hello","protocol":1}
--- no_error_log
handshake refused



=== TEST 22: parley_allowed_origins: the same host on another port is refused
--- http_config
    parley_zone parley 4m;
    parley_allowed_origins https://a.example http://good.example:8080;
--- config
    location /ws { parley_signaling; }
--- ws_headers
Origin: http://good.example:8081
--- ws_exchange
c<status 403
c<header !Sec-WebSocket-Accept
--- error_log
parley: WebSocket handshake refused: the origin is not allowed



=== TEST 23: parley_allowed_origins off in a location overrides the server's list
--- http_config
    parley_zone parley 4m;
--- config
    parley_allowed_origins https://good.example;
    location /ws { parley_signaling; parley_allowed_origins off; }
--- ws_headers
Origin: https://evil.example
--- ws_exchange
c<status 101
c< {"type":"hello","protocol":1}
--- no_error_log
handshake refused



=== TEST 24: a refused handshake leaves the connection usable (keepalive)
# Two refused handshakes pipelined on one connection: the first answer keeps
# the connection alive, and the second request is then handled too (its
# refusal is logged).
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"
. "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"
--- error_code: 400
--- response_headers
Connection: keep-alive
--- response_body
parley: WebSocket handshake refused: "Sec-WebSocket-Key" must be the base64 of 16 bytes
--- error_log
parley: WebSocket handshake refused: "Sec-WebSocket-Key" must be the base64 of 16 bytes
parley: WebSocket handshake refused: "Sec-WebSocket-Version" must be 13



=== TEST 25: a handshake with a body (Content-Length) is refused with 400
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 5\r\n\r\nhello"
--- error_code: 400
--- response_headers
!Sec-WebSocket-Accept
--- error_log
parley: WebSocket handshake refused: a handshake has no body



=== TEST 26: a handshake with a chunked body is refused with 400
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
--- error_code: 400
--- response_headers
!Sec-WebSocket-Accept
--- error_log
parley: WebSocket handshake refused: a handshake has no body



=== TEST 27: Content-Length: 0 is no body: 101
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"
    # then a close frame (masked, code 1000), so that the server closes
    . "\x88\x82\x00\x00\x00\x00\x03\xe8"
--- error_code: 101
--- response_headers
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
--- no_error_log
handshake refused
