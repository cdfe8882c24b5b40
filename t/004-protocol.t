# The signaling protocol, version 1, as docs/protocol.md describes it:
# create, join, roster, leave, close, ping and the errors, seen from
# clients on one worker (several workers: another file).
#
#   TEST_NGINX_LOAD_MODULES=build/ngx_http_parley_module.so prove -It/lib t/004-protocol.t
#
# In ws_exchange scripts, %REPEAT(text,N)% stands for text repeated N times
# (for strings at and just over their length limits).

use Test::Nginx::Socket 'no_plan';
use Test::Parley::Blocks;

repeat_each(1);
workers(1);
master_on();
log_level('info');
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    my $script = $block->ws_exchange // return;
    $script =~ s/%REPEAT\(([^,()]*),(\d+)\)%/$1 x $2/ge;
    $block->set_value(ws_exchange => $script);
});

run_tests();

__DATA__

=== TEST 1: hello on every connection
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< {"type":"hello","protocol":1,"worker":0}
bob< {"type":"hello","protocol":1,"worker":0}
alice<quiet 200
--- no_error_log
[error]



=== TEST 2: create: created, with the room id, you as organiser, and a roster of one
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room","you":{"id":"$alice","name":"Alice","role":"organiser","guest":false},"participants":[{"id":"$alice","name":"Alice","role":"organiser","guest":false}]}
# the id and the room are strings; the room id is a valid join link id
alice<quiet 200
alice> {"type":"roster"}
alice<~ ^(?=.*"type":"roster")(?=.*"room":"[A-Za-z0-9_-]{1,64}")(?=.*"id":"[^"]+")
alice> {"type":"ping"}
alice< {"type":"pong"}
--- no_error_log
[error]



=== TEST 3: create with an email: a guest; names at the limit, in UTF-8
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice","email":"alice@example.com"}
alice< {"type":"created","room":"$room","you":{"id":"$alice","name":"Alice","role":"organiser","guest":true},"participants":[{"id":"$alice","name":"Alice","role":"organiser","guest":true}]}
# 128 bytes of ASCII
bob< type=hello
bob> {"type":"create","name":"%REPEAT(b,128)%"}
bob< {"type":"created","you":{"name":"%REPEAT(b,128)%","role":"organiser","guest":false}}
# 128 bytes of UTF-8 (64 two-byte characters), and an email of 254 bytes
carol< type=hello
carol> {"type":"create","name":"%REPEAT(\u00e9,64)%","email":"%REPEAT(c,242)%@example.com"}
carol< {"type":"created","you":{"name":"%REPEAT(\u00e9,64)%","role":"organiser","guest":true}}
--- no_error_log
[error]



=== TEST 4: an email is never sent to the others
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice","email":"alice@example.com"}
alice< {"type":"created","room":"$room","you":{"id":"$alice","guest":true}}
bob< type=hello
bob> {"type":"join","room":"$room","name":"Bob","email":"bob@example.org"}
# bob's roster holds alice, without her email
bob<~ ^(?=.*"type":"joined")(?=.*"name":"Alice")(?!.*"email")(?!.*alice@example\.com)
# alice hears of bob, without his email
alice<~ ^(?=.*"type":"participant-joined")(?=.*"name":"Bob")(?!.*"email")(?!.*bob@example\.org)
# the same with the subset matcher: no "email" member, whatever its value
bob> {"type":"roster"}
bob<! {"participants":[{"email":"*"},{}]}
bob> {"type":"roster"}
bob<! {"participants":[{},{"email":"*"}]}
bob> {"type":"roster"}
bob< {"type":"roster","room":"$room","participants":[{"id":"$alice","name":"Alice","role":"organiser","guest":true},{"name":"Bob","role":"participant","guest":true}]}
carol< type=hello
carol> {"type":"join","room":"$room","name":"Carol"}
carol<~ ^(?=.*"type":"joined")(?=.*"name":"Bob")(?!.*"email")(?!.*@example\.)
alice<~ ^(?=.*"type":"participant-joined")(?=.*"name":"Carol")(?!.*"email")
bob<~ ^(?=.*"type":"participant-joined")(?=.*"name":"Carol")(?!.*"email")
alice> {"type":"roster"}
alice<~ ^(?=.*"type":"roster")(?!.*"email")(?!.*bob@example\.org)
--- no_error_log
[error]



=== TEST 5: join: joined with the roster in join order; the others get participant-joined
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room","you":{"id":"$alice"}}
bob< type=hello
bob> {"type":"join","room":"$room","name":"Bob"}
bob< {"type":"joined","room":"$room","you":{"id":"$bob","name":"Bob","role":"participant","guest":false},"participants":[{"id":"$alice","name":"Alice","role":"organiser","guest":false},{"id":"$bob","name":"Bob","role":"participant","guest":false}]}
alice< {"type":"participant-joined","room":"$room","participant":{"id":"$bob","name":"Bob","role":"participant","guest":false}}
# bob is not told about himself
bob<quiet 200
carol< type=hello
carol> {"type":"join","room":"$room","name":"Carol","email":"carol@example.com"}
carol< {"type":"joined","room":"$room","you":{"id":"$carol","name":"Carol","role":"participant","guest":true},"participants":[{"id":"$alice","name":"Alice","role":"organiser","guest":false},{"id":"$bob","name":"Bob","role":"participant","guest":false},{"id":"$carol","name":"Carol","role":"participant","guest":true}]}
alice< {"type":"participant-joined","room":"$room","participant":{"id":"$carol","name":"Carol","role":"participant","guest":true}}
bob< {"type":"participant-joined","room":"$room","participant":{"id":"$carol","name":"Carol","role":"participant","guest":true}}
carol<quiet 200
alice<quiet 100
bob<quiet 100
--- no_error_log
[error]



=== TEST 6: participant ids are distinct
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room"}
bob< type=hello
bob> {"type":"join","room":"$room","name":"Alice"}
# two entries with different ids, although the names are the same
bob<~ ^(?=.*"type":"joined")(?=.*"id":"([^"]+)".*"id":"(?!\1")[^"]+")
--- no_error_log
[error]



=== TEST 7: roster; ref echoed as an integer and as a string, in answers and errors
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"roster","ref":1}
alice< {"type":"error","code":"not_in_room","ref":1}
alice> {"type":"roster","ref":"r1"}
alice< {"type":"error","code":"not_in_room","ref":"r1"}
alice> {"type":"create","name":"Alice","ref":2}
alice< {"type":"created","room":"$room","you":{"id":"$alice"},"ref":2}
bob< type=hello
bob> {"type":"join","room":"$room","name":"Bob","ref":"join-1"}
bob< {"type":"joined","room":"$room","you":{"id":"$bob"},"ref":"join-1"}
# the others' notices carry no ref
alice<~ ^(?=.*"type":"participant-joined")(?=.*"name":"Bob")(?!.*"ref")
alice<quiet 100
alice> {"type":"roster","ref":3}
alice< {"type":"roster","room":"$room","participants":[{"id":"$alice","name":"Alice","role":"organiser","guest":false},{"id":"$bob","name":"Bob","role":"participant","guest":false}],"ref":3}
alice> {"type":"roster","ref":"three"}
alice< {"type":"roster","room":"$room","participants":[{"id":"$alice"},{"id":"$bob"}],"ref":"three"}
alice> {"type":"roster"}
alice< {"type":"roster","room":"$room","participants":[{"id":"$alice"},{"id":"$bob"}]}
bob> {"type":"roster","ref":0}
bob< {"type":"roster","room":"$room","participants":[{"id":"$alice"},{"id":"$bob"}],"ref":0}
# ref is the client's: a negative or large integer, a 64-byte string, an empty string
alice> {"type":"ping","ref":-5}
alice< {"type":"pong","ref":-5}
alice> {"type":"ping","ref":9007199254740991}
alice< {"type":"pong","ref":9007199254740991}
alice> {"type":"ping","ref":"%REPEAT(r,64)%"}
alice< {"type":"pong","ref":"%REPEAT(r,64)%"}
alice> {"type":"ping","ref":""}
alice< {"type":"pong","ref":""}
# errors keep the ref too
alice> {"type":"create","name":"Again","ref":4}
alice< {"type":"error","code":"already_in_room","ref":4}
alice> {"type":"dance","ref":"d"}
alice< {"type":"error","code":"unknown_type","field":"type","ref":"d"}
alice> {"ref":5}
alice< {"type":"error","code":"missing_field","field":"type","ref":5}
bob> {"type":"close","ref":"c"}
bob< {"type":"error","code":"not_organiser","ref":"c"}
bob> {"type":"leave","ref":6}
bob< {"type":"left","room":"$room","ref":6}
bob> {"type":"leave","ref":"again"}
bob< {"type":"error","code":"not_in_room","ref":"again"}
carol< type=hello
carol> {"type":"join","room":"nosuchroom","name":"Carol","ref":7}
carol< {"type":"error","code":"room_not_found","field":"room","ref":7}
carol> {"type":"create","ref":"x"}
carol< {"type":"error","code":"missing_field","field":"name","ref":"x"}
--- no_error_log
[error]



=== TEST 8: ref echoed in the sender's own closed (the answer to close)
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room"}
alice> {"type":"close","ref":8}
alice< {"type":"closed","room":"$room","reason":"organiser_closed","ref":8}
--- no_error_log
[error]



=== TEST 9: leave: left; the others get participant-left; join again; leave when out
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room","you":{"id":"$alice"}}
bob< type=hello
bob> {"type":"join","room":"$room","name":"Bob"}
bob< {"type":"joined","room":"$room","you":{"id":"$bob"}}
alice< {"type":"participant-joined","participant":{"id":"$bob"}}
carol< type=hello
carol> {"type":"join","room":"$room","name":"Carol"}
carol< {"type":"joined","room":"$room","you":{"id":"$carol"}}
alice< {"type":"participant-joined","participant":{"id":"$carol"}}
bob< {"type":"participant-joined","participant":{"id":"$carol"}}
bob> {"type":"leave"}
bob< {"type":"left","room":"$room"}
alice< {"type":"participant-left","room":"$room","id":"$bob","reason":"left"}
carol< {"type":"participant-left","room":"$room","id":"$bob","reason":"left"}
# the one who left hears nothing more of the room
bob<quiet 200
alice> {"type":"roster"}
alice< {"type":"roster","room":"$room","participants":[{"id":"$alice"},{"id":"$carol"}]}
# out of the room
bob> {"type":"roster"}
bob< {"type":"error","code":"not_in_room"}
bob> {"type":"leave"}
bob< {"type":"error","code":"not_in_room"}
bob> {"type":"close"}
bob< {"type":"error","code":"not_in_room"}
# the connection may join again, and comes last in the roster
bob> {"type":"join","room":"$room","name":"Bob again"}
bob< {"type":"joined","room":"$room","you":{"id":"$bob2","name":"Bob again","role":"participant"},"participants":[{"id":"$alice"},{"id":"$carol"},{"id":"$bob2","name":"Bob again"}]}
alice< {"type":"participant-joined","room":"$room","participant":{"id":"$bob2","name":"Bob again","role":"participant"}}
carol< {"type":"participant-joined","room":"$room","participant":{"id":"$bob2"}}
bob> {"type":"leave"}
bob< {"type":"left","room":"$room"}
alice< {"type":"participant-left","room":"$room","id":"$bob2","reason":"left"}
carol< {"type":"participant-left","room":"$room","id":"$bob2","reason":"left"}
# ... or create a conversation of its own
bob> {"type":"create","name":"Bob"}
bob< {"type":"created","room":"$room2","you":{"role":"organiser"},"participants":[{"name":"Bob"}]}
alice<quiet 200
carol<quiet 100
--- no_error_log
[error]



=== TEST 10: a participant that drops the connection: participant-left, reason disconnected (without resuming)
--- http_config
    parley_zone parley 4m;
    parley_resume_timeout 0;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room","you":{"id":"$alice"}}
bob< type=hello
bob> {"type":"join","room":"$room","name":"Bob"}
bob< {"type":"joined","room":"$room","you":{"id":"$bob"}}
alice< {"type":"participant-joined","participant":{"id":"$bob"}}
carol< type=hello
carol> {"type":"join","room":"$room","name":"Carol"}
carol< {"type":"joined","room":"$room","you":{"id":"$carol"}}
alice< {"type":"participant-joined","participant":{"id":"$carol"}}
bob< {"type":"participant-joined","participant":{"id":"$carol"}}
bob>disconnect
alice< {"type":"participant-left","room":"$room","id":"$bob","reason":"disconnected"}
carol< {"type":"participant-left","room":"$room","id":"$bob","reason":"disconnected"}
alice> {"type":"roster"}
alice< {"type":"roster","room":"$room","participants":[{"id":"$alice"},{"id":"$carol"}]}
--- no_error_log
[error]



=== TEST 11: a participant that closes the WebSocket: participant-left, reason disconnected (without resuming)
--- http_config
    parley_zone parley 4m;
    parley_resume_timeout 0;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room","you":{"id":"$alice"}}
bob< type=hello
bob> {"type":"join","room":"$room","name":"Bob"}
bob< {"type":"joined","room":"$room","you":{"id":"$bob"}}
alice< {"type":"participant-joined","participant":{"id":"$bob"}}
bob>close 1000
bob<close 1000
alice< {"type":"participant-left","room":"$room","id":"$bob","reason":"disconnected"}
alice> {"type":"roster"}
alice< {"type":"roster","room":"$room","participants":[{"id":"$alice"}]}
--- no_error_log
[error]



=== TEST 12: the organiser leaves with others present: closed organiser_left, the room is gone
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room","you":{"id":"$alice"}}
bob< type=hello
bob> {"type":"join","room":"$room","name":"Bob"}
bob< {"type":"joined","room":"$room"}
alice< {"type":"participant-joined","participant":{"id":"$bob"}}
carol< type=hello
carol> {"type":"join","room":"$room","name":"Carol"}
carol< {"type":"joined","room":"$room"}
alice< {"type":"participant-joined","participant":{"name":"Carol"}}
bob< {"type":"participant-joined","participant":{"name":"Carol"}}
alice> {"type":"leave"}
alice< {"type":"left","room":"$room"}
bob< {"type":"closed","room":"$room","reason":"organiser_left"}
carol< {"type":"closed","room":"$room","reason":"organiser_left"}
alice<quiet 200
bob<quiet 100
# nobody is in a room any more
bob> {"type":"roster"}
bob< {"type":"error","code":"not_in_room"}
carol> {"type":"leave"}
carol< {"type":"error","code":"not_in_room"}
# and the room is gone
bob> {"type":"join","room":"$room","name":"Bob"}
bob< {"type":"error","code":"room_not_found","field":"room"}
dave< type=hello
dave> {"type":"join","room":"$room","name":"Dave"}
dave< {"type":"error","code":"room_not_found","field":"room"}
alice> {"type":"join","room":"$room","name":"Alice"}
alice< {"type":"error","code":"room_not_found","field":"room"}
--- no_error_log
[error]



=== TEST 13: the organiser disconnects with others present: closed organiser_left (without resuming)
--- http_config
    parley_zone parley 4m;
    parley_resume_timeout 0;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room"}
bob< type=hello
bob> {"type":"join","room":"$room","name":"Bob"}
bob< {"type":"joined","room":"$room"}
alice< {"type":"participant-joined"}
alice>disconnect
bob< {"type":"closed","room":"$room","reason":"organiser_left"}
bob> {"type":"join","room":"$room","name":"Bob"}
bob< {"type":"error","code":"room_not_found","field":"room"}
--- no_error_log
[error]



=== TEST 14: the organiser alone leaves: left, and the room is gone
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room"}
alice> {"type":"leave"}
alice< {"type":"left","room":"$room"}
alice<quiet 200
bob< type=hello
bob> {"type":"join","room":"$room","name":"Bob"}
bob< {"type":"error","code":"room_not_found","field":"room"}
alice> {"type":"join","room":"$room","name":"Alice"}
alice< {"type":"error","code":"room_not_found","field":"room"}
# the connection may create again
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room2"}
--- no_error_log
[error]



=== TEST 15: the organiser alone disconnects: the room is gone (without resuming)
--- http_config
    parley_zone parley 4m;
    parley_resume_timeout 0;
--- config
    location /ws { parley_signaling; }
    location = /status { parley_status; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room"}
poll /status ^parley_rooms 1$
alice>disconnect
# nobody is told: the status page says when the room is gone
poll /status ^parley_rooms 0$
bob< type=hello
bob> {"type":"join","room":"$room","name":"Bob"}
bob< {"type":"error","code":"room_not_found","field":"room"}
--- no_error_log
[error]



=== TEST 16: close by the organiser: everyone, the organiser included, gets closed
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room"}
bob< type=hello
bob> {"type":"join","room":"$room","name":"Bob"}
bob< {"type":"joined","room":"$room"}
alice< {"type":"participant-joined"}
carol< type=hello
carol> {"type":"join","room":"$room","name":"Carol"}
carol< {"type":"joined","room":"$room"}
alice< {"type":"participant-joined"}
bob< {"type":"participant-joined"}
# a participant may not close
bob> {"type":"close"}
bob< {"type":"error","code":"not_organiser"}
bob> {"type":"ping"}
bob< {"type":"pong"}
alice<quiet 100
carol<quiet 100
alice> {"type":"close"}
alice< {"type":"closed","room":"$room","reason":"organiser_closed"}
bob< {"type":"closed","room":"$room","reason":"organiser_closed"}
carol< {"type":"closed","room":"$room","reason":"organiser_closed"}
alice<quiet 200
bob<quiet 100
carol<quiet 100
# all out, the room gone, the connections open
alice> {"type":"roster"}
alice< {"type":"error","code":"not_in_room"}
alice> {"type":"close"}
alice< {"type":"error","code":"not_in_room"}
bob> {"type":"close"}
bob< {"type":"error","code":"not_in_room"}
carol> {"type":"join","room":"$room","name":"Carol"}
carol< {"type":"error","code":"room_not_found","field":"room"}
bob> {"type":"create","name":"Bob"}
bob< {"type":"created","room":"$room2","you":{"role":"organiser"}}
--- error_log eval
qr/parley: conversation r:[0-9a-f]{12} closed by its organiser/
--- no_error_log eval
[qr/\[error\]/, qr/conversation "/]



=== TEST 17: close when not in a room: not_in_room
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"close"}
alice< {"type":"error","code":"not_in_room"}
alice> {"type":"ping"}
alice< {"type":"pong"}
--- no_error_log
[error]



=== TEST 18: ping: pong, in and out of a room
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"ping"}
alice<text {"type":"pong"}
alice> {"type":"ping","ref":1}
alice< {"type":"pong","ref":1}
alice> {"type":"create","name":"Alice"}
alice< type=created
alice> {"type":"ping"}
alice< {"type":"pong"}
alice<quiet 200
--- no_error_log
[error]



=== TEST 19: bad_json: not JSON, not an object, duplicate keys; the connection stays usable
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> hello
alice< {"type":"error","code":"bad_json"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> [{"type":"ping"}]
alice< {"type":"error","code":"bad_json"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> "ping"
alice< {"type":"error","code":"bad_json"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> 42
alice< {"type":"error","code":"bad_json"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> null
alice< {"type":"error","code":"bad_json"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"ping"
alice< {"type":"error","code":"bad_json"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice>
alice< {"type":"error","code":"bad_json"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"ping","type":"ping"}
alice< {"type":"error","code":"bad_json"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"create","name":"A","name":"B"}
alice< {"type":"error","code":"bad_json"}
alice> {"type":"ping"}
alice< {"type":"pong"}
# nothing was created by the duplicate-key message
alice> {"type":"roster"}
alice< {"type":"error","code":"not_in_room"}
--- error_log eval
qr/\[info\] .*parley: refused a client message: bad_json/
--- no_error_log
[error]



=== TEST 20: type: missing, not a string, unknown
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {}
alice< {"type":"error","code":"missing_field","field":"type"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"name":"Alice"}
alice< {"type":"error","code":"missing_field","field":"type"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":5}
alice< {"type":"error","code":"wrong_type","field":"type"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":["ping"]}
alice< {"type":"error","code":"wrong_type","field":"type"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"dance"}
alice< {"type":"error","code":"unknown_type","field":"type"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"PING"}
alice< {"type":"error","code":"unknown_type","field":"type"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":""}
alice< {"type":"error","code":"unknown_type","field":"type"}
alice> {"type":"ping"}
alice< {"type":"pong"}
# types the server sends are not client messages
alice> {"type":"hello"}
alice< {"type":"error","code":"unknown_type","field":"type"}
alice> {"type":"ping"}
alice< {"type":"pong"}
--- error_log eval
qr/\[info\] .*parley: refused a client message: unknown_type/
--- no_error_log
[error]



=== TEST 21: create: name missing, of the wrong type, too long, empty, with control characters
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create"}
alice< {"type":"error","code":"missing_field","field":"name"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"create","email":"alice@example.com"}
alice< {"type":"error","code":"missing_field","field":"name"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"create","name":42}
alice< {"type":"error","code":"wrong_type","field":"name"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"create","name":{"first":"Alice"}}
alice< {"type":"error","code":"wrong_type","field":"name"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"create","name":"%REPEAT(a,129)%"}
alice< {"type":"error","code":"too_long","field":"name"}
alice> {"type":"ping"}
alice< {"type":"pong"}
# 65 two-byte characters: 130 bytes
alice> {"type":"create","name":"%REPEAT(\u00e9,65)%"}
alice< {"type":"error","code":"too_long","field":"name"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"create","name":""}
alice< {"type":"error","code":"invalid_value","field":"name"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"create","name":"Ali\u0001ce"}
alice< {"type":"error","code":"invalid_value","field":"name"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"create","name":"Alice\n"}
alice< {"type":"error","code":"invalid_value","field":"name"}
alice> {"type":"ping"}
alice< {"type":"pong"}
# none of these created anything
alice> {"type":"roster"}
alice< {"type":"error","code":"not_in_room"}
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","you":{"name":"Alice"}}
--- no_error_log
[error]



=== TEST 22: create: a name with a NUL character (valid JSON): invalid_value
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Ali\u0000ce"}
alice< {"type":"error","code":"invalid_value","field":"name"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"roster"}
alice< {"type":"error","code":"not_in_room"}
--- no_error_log
[error]



=== TEST 23: create: email malformed, of the wrong type, too long
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice","email":"alice.example.com"}
alice< {"type":"error","code":"invalid_value","field":"email"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"create","name":"Alice","email":"alice @example.com"}
alice< {"type":"error","code":"invalid_value","field":"email"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"create","name":"Alice","email":"@example.com"}
alice< {"type":"error","code":"invalid_value","field":"email"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"create","name":"Alice","email":"alice@"}
alice< {"type":"error","code":"invalid_value","field":"email"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"create","name":"Alice","email":""}
alice< {"type":"error","code":"invalid_value","field":"email"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"create","name":"Alice","email":7}
alice< {"type":"error","code":"wrong_type","field":"email"}
alice> {"type":"ping"}
alice< {"type":"pong"}
# 255 bytes
alice> {"type":"create","name":"Alice","email":"%REPEAT(a,243)%@example.com"}
alice< {"type":"error","code":"too_long","field":"email"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"roster"}
alice< {"type":"error","code":"not_in_room"}
# 254 bytes is fine
alice> {"type":"create","name":"Alice","email":"%REPEAT(a,242)%@example.com"}
alice< {"type":"created","you":{"name":"Alice","guest":true}}
--- no_error_log
[error]



=== TEST 24: join: room missing, of the wrong type, malformed, too long, unknown; name checked too
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room"}
bob< type=hello
bob> {"type":"join","name":"Bob"}
bob< {"type":"error","code":"missing_field","field":"room"}
bob> {"type":"ping"}
bob< {"type":"pong"}
bob> {"type":"join","room":12345,"name":"Bob"}
bob< {"type":"error","code":"wrong_type","field":"room"}
bob> {"type":"ping"}
bob< {"type":"pong"}
bob> {"type":"join","room":"abc def","name":"Bob"}
bob< {"type":"error","code":"invalid_value","field":"room"}
bob> {"type":"ping"}
bob< {"type":"pong"}
bob> {"type":"join","room":"../$room","name":"Bob"}
bob< {"type":"error","code":"invalid_value","field":"room"}
bob> {"type":"ping"}
bob< {"type":"pong"}
bob> {"type":"join","room":"$room\u00e9","name":"Bob"}
bob< {"type":"error","code":"invalid_value","field":"room"}
bob> {"type":"ping"}
bob< {"type":"pong"}
# 65 bytes: too long; 64 bytes of valid characters: just unknown
bob> {"type":"join","room":"%REPEAT(a,65)%","name":"Bob"}
bob< {"type":"error","code":"too_long","field":"room"}
bob> {"type":"ping"}
bob< {"type":"pong"}
bob> {"type":"join","room":"%REPEAT(a,64)%","name":"Bob"}
bob< {"type":"error","code":"room_not_found","field":"room"}
bob> {"type":"ping"}
bob< {"type":"pong"}
bob> {"type":"join","room":"nosuchroom","name":"Bob"}
bob< {"type":"error","code":"room_not_found","field":"room"}
bob> {"type":"ping"}
bob< {"type":"pong"}
# a known room, but a bad name or email
bob> {"type":"join","room":"$room"}
bob< {"type":"error","code":"missing_field","field":"name"}
bob> {"type":"ping"}
bob< {"type":"pong"}
bob> {"type":"join","room":"$room","name":""}
bob< {"type":"error","code":"invalid_value","field":"name"}
bob> {"type":"ping"}
bob< {"type":"pong"}
bob> {"type":"join","room":"$room","name":"%REPEAT(b,129)%"}
bob< {"type":"error","code":"too_long","field":"name"}
bob> {"type":"ping"}
bob< {"type":"pong"}
bob> {"type":"join","room":"$room","name":"Bob","email":"bob"}
bob< {"type":"error","code":"invalid_value","field":"email"}
bob> {"type":"ping"}
bob< {"type":"pong"}
# none of these joined: alice heard nothing, and bob is not in the room
alice<quiet 200
bob> {"type":"roster"}
bob< {"type":"error","code":"not_in_room"}
bob> {"type":"join","room":"$room","name":"Bob"}
bob< {"type":"joined","room":"$room"}
alice< {"type":"participant-joined","participant":{"name":"Bob"}}
--- no_error_log
[error]



=== TEST 25: create or join while in a conversation: already_in_room
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room"}
alice> {"type":"create","name":"Alice"}
alice< {"type":"error","code":"already_in_room"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"join","room":"$room","name":"Alice"}
alice< {"type":"error","code":"already_in_room"}
alice> {"type":"ping"}
alice< {"type":"pong"}
bob< type=hello
bob> {"type":"join","room":"$room","name":"Bob"}
bob< {"type":"joined","room":"$room"}
alice< {"type":"participant-joined"}
bob> {"type":"join","room":"$room","name":"Bob"}
bob< {"type":"error","code":"already_in_room"}
bob> {"type":"ping"}
bob< {"type":"pong"}
bob> {"type":"create","name":"Bob"}
bob< {"type":"error","code":"already_in_room"}
bob> {"type":"ping"}
bob< {"type":"pong"}
# nothing changed
alice<quiet 200
bob> {"type":"roster"}
bob< {"type":"roster","room":"$room","participants":[{"name":"Alice"},{"name":"Bob"}]}
--- no_error_log
[error]



=== TEST 26: ref of the wrong type: wrong_type, field ref
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"ping","ref":{"n":1}}
alice< {"type":"error","code":"wrong_type","field":"ref"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"ping","ref":[1]}
alice< {"type":"error","code":"wrong_type","field":"ref"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"ping","ref":true}
alice< {"type":"error","code":"wrong_type","field":"ref"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"ping","ref":1.5}
alice< {"type":"error","code":"wrong_type","field":"ref"}
alice> {"type":"ping"}
alice< {"type":"pong"}
alice> {"type":"create","name":"Alice","ref":{}}
alice< {"type":"error","code":"wrong_type","field":"ref"}
alice> {"type":"ping"}
alice< {"type":"pong"}
--- no_error_log
[error]



=== TEST 27: ref longer than 64 bytes is refused as too_long
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"ping","ref":"%REPEAT(r,65)%"}
alice< {"type":"error","code":"too_long","field":"ref"}
alice> {"type":"ping"}
alice< {"type":"pong"}
--- no_error_log
[error]



=== TEST 28: parley_max_participants 2: the third join gets room_full
--- http_config
    parley_zone parley 4m;
    parley_max_participants 2;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room"}
bob< type=hello
bob> {"type":"join","room":"$room","name":"Bob"}
bob< {"type":"joined","room":"$room","participants":[{"name":"Alice"},{"name":"Bob"}]}
alice< {"type":"participant-joined","participant":{"name":"Bob"}}
carol< type=hello
carol> {"type":"join","room":"$room","name":"Carol","ref":3}
carol< {"type":"error","code":"room_full","ref":3}
carol> {"type":"ping"}
carol< {"type":"pong"}
alice<quiet 200
bob<quiet 100
alice> {"type":"roster"}
alice< {"type":"roster","participants":[{"name":"Alice"},{"name":"Bob"}]}
# once bob has left, there is room for carol
bob> {"type":"leave"}
bob< {"type":"left","room":"$room"}
alice< {"type":"participant-left","reason":"left"}
carol> {"type":"join","room":"$room","name":"Carol"}
carol< {"type":"joined","room":"$room","participants":[{"name":"Alice"},{"name":"Carol"}]}
alice< {"type":"participant-joined","participant":{"name":"Carol"}}
# the limit is per room: bob may create another
bob> {"type":"create","name":"Bob"}
bob< {"type":"created","room":"$room2"}
--- no_error_log
[error]



=== TEST 29: parley_max_rooms 1: a second create gets too_many_rooms, until the first ends
--- http_config
    parley_zone parley 4m;
    parley_max_rooms 1;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room"}
bob< type=hello
bob> {"type":"create","name":"Bob","ref":"b"}
bob< {"type":"error","code":"too_many_rooms","ref":"b"}
bob> {"type":"ping"}
bob< {"type":"pong"}
# joining the existing room still works
carol< type=hello
carol> {"type":"join","room":"$room","name":"Carol"}
carol< {"type":"joined","room":"$room"}
alice< {"type":"participant-joined"}
alice> {"type":"close"}
alice< {"type":"closed","reason":"organiser_closed"}
carol< {"type":"closed","reason":"organiser_closed"}
bob> {"type":"create","name":"Bob"}
bob< {"type":"created","room":"$room2","you":{"role":"organiser"}}
alice> {"type":"create","name":"Alice"}
alice< {"type":"error","code":"too_many_rooms"}
# the organiser alone leaving ends the room too
bob> {"type":"leave"}
bob< {"type":"left","room":"$room2"}
alice> {"type":"create","name":"Alice"}
alice< {"type":"created","room":"$room3"}
--- error_log
parley: parley_max_rooms reached
--- no_error_log
[error]



=== TEST 30: publish outside a conversation, and without media configured
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"publish","sdp":"v=0\r\n","ref":1}
alice< {"type":"error","code":"not_in_room","ref":1}
alice> {"type":"create","name":"Alice"}
alice< type=created
alice> {"type":"publish","sdp":"v=0\r\n","ref":2}
alice< {"type":"error","code":"media_unavailable","ref":2}
alice> {"type":"ping"}
alice< {"type":"pong"}



=== TEST 31: publish with a bad offer: invalid_sdp, the connection stays usable
--- http_config
    parley_zone parley 4m;
    parley_ice_address 127.0.0.1;
    parley_ice_ports $TEST_NGINX_ICE_PORTS;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< type=created
alice> {"type":"publish","sdp":"this is not SDP","ref":3}
alice< {"type":"error","code":"invalid_sdp","field":"sdp","ref":3}
alice> {"type":"publish"}
alice< {"type":"error","code":"missing_field","field":"sdp"}
alice> {"type":"publish","sdp":42}
alice< {"type":"error","code":"wrong_type","field":"sdp"}
alice> {"type":"ping"}
alice< {"type":"pong"}
--- error_log
parley: bad SDP offer: line 1



=== TEST 32: candidate messages: taken silently, a malformed one refused
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"candidate","candidate":"candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host"}
alice> {"type":"candidate","candidate":""}
alice> {"type":"candidate","candidate":"not a candidate"}
alice< {"type":"error","code":"invalid_value","field":"candidate"}
alice> {"type":"ping"}
alice< {"type":"pong"}



=== TEST 33: subscribe errors: not in a room, twice, no offer
--- http_config
    parley_zone parley 4m;
    parley_ice_address 127.0.0.1;
    parley_ice_ports $TEST_NGINX_ICE_PORTS;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"subscribe","ref":1}
alice< {"type":"error","code":"not_in_room","ref":1}
alice> {"type":"create","name":"Alice"}
alice< type=created
alice> {"type":"subscribe","ref":2}
alice> {"type":"subscribe","ref":5}
alice< {"type":"error","code":"already_subscribed","ref":5}
alice> {"type":"subscribe-answer","sdp":"v=0\r\n","ref":3}
alice< {"type":"error","code":"no_offer","ref":3}
alice> {"type":"subscribe-answer","ref":4}
alice< {"type":"error","code":"missing_field","field":"sdp","ref":4}
alice> {"type":"ping"}
alice< {"type":"pong"}



=== TEST 34: subscribe without media configured
--- http_config
    parley_zone parley 4m;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< type=created
alice> {"type":"subscribe"}
alice< {"type":"error","code":"media_unavailable"}



=== TEST 35: parley_codecs: a codec left out is not answered
--- http_config
    parley_zone parley 4m;
    parley_ice_address 127.0.0.1;
    parley_ice_ports $TEST_NGINX_ICE_PORTS;
    parley_codecs opus;
--- config
    location /ws { parley_signaling; }
--- ws_exchange eval
my $sdp = do { local (@ARGV, $/) = 't/../tests/fixtures/sdp/chromium-av-offer.sdp'; <> };
$sdp =~ s/\r?\n/\\r\\n/g;
<<"S"
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< type=created
alice> {"type":"publish","sdp":"$sdp","ref":1}
alice<~ "type":"publish-answer".*m=audio [1-9][0-9]* UDP/TLS/RTP/SAVPF 111.*m=video 0 
S



=== TEST 36: publish "screen" is checked
--- http_config
    parley_zone parley 4m;
    parley_ice_address 127.0.0.1;
    parley_ice_ports $TEST_NGINX_ICE_PORTS;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"create","name":"Alice"}
alice< type=created
alice> {"type":"publish","sdp":"v=0\r\n","screen":"1","ref":1}
alice< {"type":"error","code":"wrong_type","field":"screen","ref":1}
alice> {"type":"publish","sdp":"v=0\r\n","screen":["1","2","3","4","5"],"ref":2}
alice< {"type":"error","code":"too_long","field":"screen","ref":2}
alice> {"type":"publish","sdp":"v=0\r\n","screen":[7],"ref":3}
alice< {"type":"error","code":"invalid_value","field":"screen","ref":3}
alice> {"type":"publish","sdp":"v=0\r\n","screen":["1"],"ref":4}
alice< {"type":"error","code":"invalid_sdp","ref":4}



=== TEST 37: layer and subscribe restart errors
--- http_config
    parley_zone parley 4m;
    parley_ice_address 127.0.0.1;
    parley_ice_ports $TEST_NGINX_ICE_PORTS;
--- config
    location /ws { parley_signaling; }
--- ws_exchange
alice< type=hello
alice> {"type":"layer","mid":"t0","layer":"low","ref":1}
alice< {"type":"error","code":"not_in_room","ref":1}
alice> {"type":"create","name":"Alice"}
alice< type=created
alice> {"type":"layer","mid":"t0","layer":"low","ref":2}
alice< {"type":"error","code":"not_subscribed","field":"mid","ref":2}
alice> {"type":"subscribe","restart":"yes","ref":3}
alice< {"type":"error","code":"wrong_type","field":"restart","ref":3}
alice> {"type":"subscribe","ref":4}
alice> {"type":"subscribe","restart":true,"ref":5}
alice< {"type":"error","code":"no_connection","ref":5}
alice> {"type":"layer","mid":"t0","layer":"huge","ref":6}
alice< {"type":"error","code":"invalid_value","field":"layer","ref":6}
alice> {"type":"layer","mid":"t0","layer":"high","ref":7}
alice< {"type":"error","code":"unknown_track","field":"mid","ref":7}
alice> {"type":"layer","layer":"high","ref":8}
alice< {"type":"error","code":"missing_field","field":"mid","ref":8}
alice> {"type":"ping"}
alice< {"type":"pong"}
