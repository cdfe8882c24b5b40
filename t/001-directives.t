# The parley directives: parsing, bounds and errors (the messages come from
# ngx_module/ngx_http_parley_module.c and nginx's own slot functions), the
# zone notice at start, and the web app served by parley_app.
#
#   TEST_NGINX_LOAD_MODULES=$PWD/build/ngx_http_parley_module.so \
#       prove -It/lib t/001-directives.t

use Test::Nginx::Socket 'no_plan';
use Test::Parley::Blocks;

log_level('info');
no_shuffle();
no_root_location();    # TEST 23 and the parley_app tests have their own "location /"
run_tests();

__DATA__

=== TEST 1: parley_zone: a valid zone starts and logs its capacity
--- http_config
    parley_zone parley 4m;
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/\[notice\] .*parley_zone "parley": 1000 rooms, [1-9]\d* participants in all/



=== TEST 2: parley_zone: 32m holds the defaults' 50,000 participants (README)
--- http_config
    parley_zone parley 32m;
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- error_log
parley_zone "parley": 1000 rooms, 50000 participants in all



=== TEST 3: parley_zone: size missing
--- http_config
    parley_zone parley;
--- must_die
--- error_log
invalid number of arguments in "parley_zone" directive



=== TEST 4: parley_zone: invalid size
--- http_config
    parley_zone parley abc;
--- must_die
--- error_log
invalid zone size "abc"



=== TEST 5: parley_zone too small
--- http_config
    parley_zone x 4k;
--- must_die
--- error_log
zone "x" is too small



=== TEST 6: parley_zone: duplicate
--- http_config
    parley_zone a 4m;
    parley_zone b 4m;
--- must_die
--- error_log
"parley_zone" directive is duplicate



=== TEST 7: parley_zone too small for parley_max_rooms
--- http_config
    parley_zone x 64k;
    parley_max_rooms 1000000;
--- must_die
--- error_log eval
qr/\[emerg\] .*parley_zone "x" is too small for parley_max_rooms 1000000: it needs at least \d+ bytes/



=== TEST 8: parley_zone: not allowed in server
--- config
    parley_zone parley 4m;
--- must_die
--- error_log
"parley_zone" directive is not allowed here



=== TEST 9: parley_max_rooms and parley_max_participants: valid values
--- http_config
    parley_zone parley 4m;
    parley_max_rooms 10;
    parley_max_participants 2;
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- error_log
parley_zone "parley": 10 rooms, 20 participants in all



=== TEST 10: parley_max_rooms and parley_max_participants: upper bounds accepted
--- http_config
    parley_zone parley 128m;
    parley_max_rooms 1000000;
    parley_max_participants 10000;
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/parley_zone "parley": 1000000 rooms, [1-9]\d* participants in all/



=== TEST 11: parley_max_rooms 0
--- http_config
    parley_zone parley 4m;
    parley_max_rooms 0;
--- must_die
--- error_log
value must be between 1 and 1000000



=== TEST 12: parley_max_rooms too large
--- http_config
    parley_zone parley 4m;
    parley_max_rooms 1000001;
--- must_die
--- error_log
value must be between 1 and 1000000



=== TEST 13: parley_max_rooms: not a number
--- http_config
    parley_zone parley 4m;
    parley_max_rooms many;
--- must_die
--- error_log
"parley_max_rooms" directive invalid number



=== TEST 14: parley_max_participants 0
--- http_config
    parley_zone parley 4m;
    parley_max_participants 0;
--- must_die
--- error_log
value must be between 2 and 10000



=== TEST 15: parley_max_participants 1 (a conversation needs two)
--- http_config
    parley_zone parley 4m;
    parley_max_participants 1;
--- must_die
--- error_log
value must be between 2 and 10000



=== TEST 16: parley_max_participants too large
--- http_config
    parley_zone parley 4m;
    parley_max_participants 10001;
--- must_die
--- error_log
value must be between 2 and 10000



=== TEST 17: parley_max_participants: not a number
--- http_config
    parley_zone parley 4m;
    parley_max_participants 5x;
--- must_die
--- error_log
"parley_max_participants" directive invalid number



=== TEST 18: parley_max_rooms: not allowed in server
--- http_config
    parley_zone parley 4m;
--- config
    parley_max_rooms 10;
--- must_die
--- error_log
"parley_max_rooms" directive is not allowed here



=== TEST 19: parley_signaling without parley_zone
--- config
    location /ws { parley_signaling; }
--- must_die
--- error_log
"parley_signaling" requires "parley_zone" in the http block, before it



=== TEST 20: parley_signaling with an argument
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling on; }
--- must_die
--- error_log
invalid number of arguments in "parley_signaling" directive



=== TEST 21: parley_signaling: duplicate
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; parley_signaling; }
--- must_die
--- error_log
"parley_signaling" directive is duplicate



=== TEST 22: parley_signaling: not allowed in server
--- http_config
    parley_zone parley 4m;
--- config
    parley_signaling;
--- must_die
--- error_log
"parley_signaling" directive is not allowed here



=== TEST 23: parley_app with an argument
--- config
    location / { parley_app on; }
--- must_die
--- error_log
invalid number of arguments in "parley_app" directive



=== TEST 24: parley_app: duplicate
--- config
    location / { parley_app; parley_app; }
--- must_die
--- error_log
"parley_app" directive is duplicate



=== TEST 25: parley_max_message_size too small
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; parley_max_message_size 100; }
--- must_die
--- error_log
"parley_max_message_size" must be at least 256 bytes



=== TEST 26: parley_max_message_size 256 and parley_send_buffer equal to it are accepted
--- http_config
    parley_zone parley 4m;
    parley_max_message_size 256;
    parley_send_buffer 256;
--- config
    location /ws { parley_signaling; }
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok



=== TEST 27: parley_max_message_size: invalid size
--- http_config
    parley_zone parley 4m;
    parley_max_message_size big;
--- must_die
--- error_log
"parley_max_message_size" directive invalid value



=== TEST 28: parley_send_buffer smaller than parley_max_message_size
--- http_config
    parley_zone parley 4m;
--- config
    parley_max_message_size 64k;
    location /ws { parley_signaling; parley_send_buffer 32k; }
--- must_die
--- error_log
"parley_send_buffer" must be at least "parley_max_message_size"



=== TEST 29: parley_max_message_size above the default parley_send_buffer
--- http_config
    parley_zone parley 4m;
    parley_max_message_size 2m;
--- config
    location /ws { parley_signaling; }
--- must_die
--- error_log
"parley_send_buffer" must be at least "parley_max_message_size"



=== TEST 30: parley_ping_interval 500ms
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; parley_ping_interval 500ms; }
--- must_die
--- error_log
"parley_ping_interval" must be at least 1s



=== TEST 31: parley_ping_interval 1s with a longer parley_idle_timeout is accepted
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; parley_ping_interval 1s; parley_idle_timeout 2s; }
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok



=== TEST 32: parley_idle_timeout equal to parley_ping_interval
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; parley_ping_interval 10s; parley_idle_timeout 10s; }
--- must_die
--- error_log
"parley_idle_timeout" must be longer than "parley_ping_interval"



=== TEST 33: parley_idle_timeout shorter than the default parley_ping_interval (30s)
--- http_config
    parley_zone parley 4m;
    parley_idle_timeout 20s;
--- config
    location /ws { parley_signaling; }
--- must_die
--- error_log
"parley_idle_timeout" must be longer than "parley_ping_interval"



=== TEST 34: parley_ping_interval: invalid time
--- http_config
    parley_zone parley 4m;
    parley_ping_interval soon;
--- must_die
--- error_log
"parley_ping_interval" directive invalid value



=== TEST 35: parley_allowed_origins: bad scheme
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; parley_allowed_origins ftp://x; }
--- must_die
--- error_log
invalid origin "ftp://x": an origin is "http://host[:port]" or "https://host[:port]"



=== TEST 36: parley_allowed_origins: trailing slash
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; parley_allowed_origins https://a.example/; }
--- must_die
--- error_log
invalid origin "https://a.example/": no path or trailing "/"



=== TEST 37: parley_allowed_origins: a bad one after a good one
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; parley_allowed_origins https://a.example example.org; }
--- must_die
--- error_log
invalid origin "example.org"



=== TEST 38: parley_allowed_origins off
--- http_config
    parley_zone parley 4m;
    parley_allowed_origins off;
--- config
    location /ws { parley_signaling; }
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok



=== TEST 39: parley_allowed_origins: a valid list
--- http_config
    parley_zone parley 4m;
--- config
    parley_allowed_origins https://a.example http://b.example:8080 https://[::1]:8443;
    location /ws { parley_signaling; }
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok



=== TEST 40: parley_allowed_origins: duplicate
--- http_config
    parley_zone parley 4m;
--- config
    location /ws {
        parley_signaling;
        parley_allowed_origins https://a.example;
        parley_allowed_origins https://b.example;
    }
--- must_die
--- error_log
"parley_allowed_origins" directive is duplicate



=== TEST 41: parley_allowed_origins: no argument
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; parley_allowed_origins; }
--- must_die
--- error_log
invalid number of arguments in "parley_allowed_origins" directive



=== TEST 42: parley_app: GET / is the page
--- http_config
    parley_zone parley 4m;
--- config
    location / { parley_app; }
--- request
GET /
--- response_headers_like
Cache-Control: no-cache
X-Content-Type-Options: nosniff
Content-Type: text/html(;.*)?
Content-Length: [1-9]\d*
--- response_body_like: <title>parley
--- no_error_log
[error]



=== TEST 43: parley_app: /index.html is the same page
--- http_config
    parley_zone parley 4m;
--- config
    location / { parley_app; }
--- request
GET /index.html
--- response_headers_like
Content-Type: text/html(;.*)?
--- response_body_like: <title>parley



=== TEST 44: parley_app: /app.js
--- http_config
    parley_zone parley 4m;
--- config
    location / { parley_app; }
--- request
GET /app.js
--- response_headers_like
Cache-Control: no-cache
X-Content-Type-Options: nosniff
Content-Type: text/javascript(;.*)?
--- response_body_like: \S



=== TEST 45: parley_app: /app.css
--- http_config
    parley_zone parley 4m;
--- config
    location / { parley_app; }
--- request
GET /app.css
--- response_headers_like
Cache-Control: no-cache
X-Content-Type-Options: nosniff
Content-Type: text/css(;.*)?
--- response_body_like: \S



=== TEST 46: parley_app: an unknown file is 404
--- http_config
    parley_zone parley 4m;
--- config
    location / { parley_app; }
--- request
GET /nope
--- error_code: 404
--- response_headers
!Cache-Control



=== TEST 47: parley_app: POST is 405
--- http_config
    parley_zone parley 4m;
--- config
    location / { parley_app; }
--- request
POST /
x=1
--- error_code: 405



=== TEST 48: parley_app: HEAD / has the headers and no body
# HEAD / and GET /app.js are pipelined on one connection: the harness reads
# the HEAD answer's Content-Length bytes as its "body", so with no body after
# the HEAD header those bytes are the start of the app.js answer (app.js is
# larger than index.html).
--- http_config
    parley_zone parley 4m;
--- config
    location / { parley_app; }
--- raw_request eval
"HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\nGET /app.js HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- response_headers_like
Cache-Control: no-cache
Content-Type: text/html(;.*)?
Content-Length: [1-9]\d*
--- response_body_like eval
qr{\AHTTP/1\.1 200 OK\r\n.*?Content-Type: text/javascript}s



=== TEST 49: parley_app: the location prefix is stripped
--- http_config
    parley_zone parley 4m;
--- config
    location /meet/ { parley_app; }
--- request eval
["GET /meet/", "GET /meet/app.js", "GET /meet/app.css", "GET /meet/nope", "GET /app.js"]
--- error_code eval
[200, 200, 200, 404, 404]
--- response_headers_like eval
["Content-Type: text/html(;.*)?", "Content-Type: text/javascript(;.*)?",
 "Content-Type: text/css(;.*)?", "", ""]
--- response_body_like eval
["<title>parley", "\\S", "\\S", "", ""]



=== TEST 50: parley_app needs no parley_zone
--- config
    location / { parley_app; }
--- request
GET /
--- response_body_like: <title>parley
--- no_error_log
parley_zone



=== TEST 51: parley_status requires parley_zone
--- config
    location = /status { parley_status; }
--- must_die
--- error_log
"parley_status" requires "parley_zone" in the http block, before it



=== TEST 52: parley_status is duplicate
--- http_config
    parley_zone parley 4m;
--- config
    location = /status { parley_status; parley_status; }
--- must_die
--- error_log
"parley_status" directive is duplicate



=== TEST 53: parley_status takes no arguments
--- http_config
    parley_zone parley 4m;
--- config
    location = /status { parley_status on; }
--- must_die
--- error_log
invalid number of arguments in "parley_status" directive



=== TEST 54: parley_ice_address and parley_ice_ports: media sockets bound
--- http_config
    parley_zone parley 4m;
    parley_ice_address 127.0.0.1 announce=192.0.2.7;
    parley_ice_ports $TEST_NGINX_ICE_PORTS;
--- config
    location /ws { parley_signaling; }
--- request
GET /ws
--- error_code: 426
--- error_log eval
qr/parley: worker \d+ takes media on 127\.0\.0\.1:\d+, announced as 192\.0\.2\.7/



=== TEST 55: parley_ice_address must be an IPv4 address
--- http_config
    parley_zone parley 4m;
    parley_ice_address example.com;
--- must_die
--- error_log
invalid address "example.com": an IPv4 address is expected



=== TEST 56: parley_ice_address: a bad announced address
--- http_config
    parley_zone parley 4m;
    parley_ice_address 127.0.0.1 announce=nowhere;
--- must_die
--- error_log
invalid announced address "nowhere": an IPv4 address is expected



=== TEST 57: parley_ice_address: an unknown parameter
--- http_config
    parley_zone parley 4m;
    parley_ice_address 127.0.0.1 public=1.2.3.4;
--- must_die
--- error_log
invalid parameter "public=1.2.3.4"



=== TEST 58: parley_ice_ports: a bad range
--- http_config
    parley_zone parley 4m;
    parley_ice_ports 5000-4000;
--- must_die
--- error_log
invalid port range "5000-4000": it is "MIN-MAX", 1 <= MIN <= MAX <= 65535



=== TEST 59: parley_ice_ports: not a range
--- http_config
    parley_zone parley 4m;
    parley_ice_ports 5000;
--- must_die
--- error_log
invalid port range "5000"



=== TEST 60: parley_max_tracks and parley_track_packets size the media zone
--- http_config
    parley_zone parley 4m;
    parley_ice_address 127.0.0.1;
    parley_ice_ports $TEST_NGINX_ICE_PORTS;
    parley_max_tracks 16;
    parley_track_packets 64;
--- config
    location /ws { parley_signaling; }
--- request
GET /ws
--- error_code: 426
--- error_log
parley zone "parley:media": 16 tracks of 64 packets



=== TEST 61: parley_track_packets must be a power of two
--- http_config
    parley_zone parley 4m;
    parley_track_packets 100;
--- must_die
--- error_log
"parley_track_packets" directive must be a power of two from 32 to 8192



=== TEST 62: parley_max_tracks has bounds
--- http_config
    parley_zone parley 4m;
    parley_max_tracks 2;
--- must_die
--- error_log
value must be between 4 and 65536



=== TEST 63: no media zone without parley_ice_address
--- http_config
    parley_zone parley 4m;
    parley_max_tracks 16;
--- config
    location /ws { parley_signaling; }
--- request
GET /ws
--- error_code: 426
--- no_error_log
parley zone "parley:media"



=== TEST 64: parley_codecs: an unknown codec
--- http_config
    parley_zone parley 4m;
    parley_codecs opus theora;
--- must_die
--- error_log
unknown codec "theora": parley forwards opus, VP8, H264, VP9 and AV1
