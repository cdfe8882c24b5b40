# parley: make run | make test | make bench
#
# The module is built against the distribution's nginx (nginx-dev's header
# tree), the way an operator would build it, into build/.

NGX_SRC    := /usr/share/nginx/src
NGINX      := /usr/sbin/nginx
BUILD      := $(CURDIR)/build
MODULE     := $(BUILD)/ngx_http_parley_module.so
# the same with test hooks (config: PARLEY_TEST_HOOKS), for t/ only
HOOKS      := $(BUILD)/hooks/ngx_http_parley_module.so
# the test peer (below); named here, before any rule's prerequisites
# name it (make expands those as it reads them)
PEER       := $(BUILD)/peer/parley-peer

CC         ?= cc
CFLAGS_T   := -std=gnu11 -Wall -Wextra -Werror -O2 -g -Ishm -Irelay
LIBS_T     := -lsrtp2 -lssl -lcrypto $(shell pkg-config --libs nice 2>/dev/null)
CFLAGS_T   += $(shell pkg-config --cflags nice 2>/dev/null)
SHM_SRCS   := $(wildcard shm/*.c)
SHM_HDRS   := $(wildcard shm/*.h)
RELAY_SRCS := $(wildcard relay/*.c)
RELAY_HDRS := $(wildcard relay/*.h)
LIB_SRCS   := $(SHM_SRCS) $(RELAY_SRCS)
LIB_HDRS   := $(SHM_HDRS) $(RELAY_HDRS)
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# libnice through any loop: only the test peer (and its unit tests) use it
ICE_SRCS   := tests/peer/parley_ice.c tests/peer/parley_glib.c
ICE_HDRS   := $(ICE_SRCS:%.c=%.h)

# libFuzzer targets: tests/fuzz/fuzz_NAME.c with a seed corpus in
# tests/fuzz/corpus/NAME/. make test runs each briefly; make fuzz longer.
# New inputs go to build/fuzz/corpus/NAME, never into the seed corpus.
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_SECONDS       ?= 300
MOD_SRCS   := $(wildcard ngx_module/*.c ngx_module/*.h ngx_module/app/*) \
              $(RELAY_SRCS) $(RELAY_HDRS) \
              $(SHM_SRCS) $(SHM_HDRS)

.PHONY: all deps deps-test deps-bench run test unit fuzz-smoke fuzz bench t \
	t-upstream browser clean peer peer-test

all: $(MODULE)

deps:
	@sh tools/deps.sh build

deps-test:
	@sh tools/deps.sh test

deps-bench:
	@sh tools/deps.sh bench

$(BUILD)/Makefile: config tools/build.sh tools/embed-assets.sh \
		$(wildcard ngx_module/app/*) | deps
	tools/build.sh $(BUILD)

$(MODULE): $(BUILD)/Makefile $(MOD_SRCS)
	$(MAKE) -f $(BUILD)/Makefile -C $(NGX_SRC) modules

$(BUILD)/hooks/Makefile: config tools/build.sh tools/embed-assets.sh \
		$(wildcard ngx_module/app/*) | deps
	PARLEY_TEST_HOOKS=1 tools/build.sh $(BUILD)/hooks

$(HOOKS): $(BUILD)/hooks/Makefile $(MOD_SRCS)
	$(MAKE) -f $(BUILD)/hooks/Makefile -C $(NGX_SRC) modules

# nginx in the foreground with conf/nginx.conf; Ctrl-C stops it.
run: $(MODULE)
	mkdir -p var/logs var/tmp
	@echo "parley: http://127.0.0.1:8080/  (Ctrl-C stops)"
	$(NGINX) -p $(CURDIR)/ -c conf/nginx.conf -e var/logs/error.log \
		-g 'daemon off;'

test: deps-test
	$(MAKE) $(MODULE)
	$(MAKE) unit
	$(MAKE) fuzz-smoke
	$(MAKE) t
	$(MAKE) peer-test
	$(MAKE) browser

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# shm/ and relay/ are compiled once, with the sanitizers, for all tests.
SAN        := -fsanitize=address,undefined -fno-sanitize-recover=all
LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/obj-san/%.o)
ICE_OBJS   := $(ICE_SRCS:%.c=$(BUILD)/obj-san/%.o)

# kept between runs: make would delete them as intermediates otherwise
.SECONDARY: $(LIB_OBJS) $(ICE_OBJS)

$(BUILD)/obj-san/%.o: %.c $(LIB_HDRS) $(ICE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_T) $(SAN) -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c tests/unit/bytes.h $(LIB_OBJS) $(ICE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_T) -Itests/peer $(SAN) $< $(LIB_OBJS) $(ICE_OBJS) \
		-lcmocka $(LIBS_T) -o $@

FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj-fuzz/%.o)

.SECONDARY: $(FUZZ_OBJS)

$(BUILD)/obj-fuzz/%.o: %.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	clang $(CFLAGS_T) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c $< -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS)
	@mkdir -p $(dir $@)
	clang $(CFLAGS_T) -fsanitize=fuzzer $(FUZZ_SAN) $< $(FUZZ_OBJS) \
		$(LIBS_T) -o $@

fuzz-smoke: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do n=$${f##*/fuzz_}; \
		echo "== $$f ($(FUZZ_SMOKE_SECONDS)s)"; \
		mkdir -p $(BUILD)/fuzz/corpus/$$n; \
		$$f -max_total_time=$(FUZZ_SMOKE_SECONDS) \
			$(BUILD)/fuzz/corpus/$$n tests/fuzz/corpus/$$n \
			> $$f.log 2>&1 || { tail -n 60 $$f.log; exit 1; }; \
		tail -n 1 $$f.log; done

fuzz: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do n=$${f##*/fuzz_}; \
		mkdir -p $(BUILD)/fuzz/corpus/$$n; \
		$$f -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/corpus/$$n \
			tests/fuzz/corpus/$$n; done

# Benchmarks measure, they do not pass or fail: see docs/performance.md.
BENCH_SRCS := $(wildcard tests/bench/bench_*.c)
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/bench/%)

# tests/bench/sfu.sh, the SFU benchmark, drives nginx + parley and Janus
# with the test peer and quotes the bare loop of bench_srtp's output.
bench: deps-bench deps-test $(BENCH_BINS) $(MODULE) $(PEER)
	@set -e; for b in $(BENCH_BINS); do echo "== $$b"; $$b > $$b.txt; \
		cat $$b.txt; done
	TEST_NGINX_BINARY=$(NGINX) TEST_NGINX_LOAD_MODULES=$(MODULE) \
		perl -It/lib tests/bench/workers.pl
	PARLEY_NGINX=$(NGINX) PARLEY_MODULE=$(MODULE) \
		sh tests/bench/resume.sh
	PARLEY_NGINX=$(NGINX) PARLEY_MODULE=$(MODULE) PARLEY_PEER=$(PEER) \
		bash tests/bench/sfu.sh $(BUILD)/bench/bench_srtp.txt

$(BUILD)/bench/%: tests/bench/%.c $(LIB_SRCS) $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_T) $< $(LIB_SRCS) $(LIBS_T) -o $@

# The test peer: a WebRTC endpoint without a browser, and the load
# generator of the SFU benchmark. Optimised, no sanitizers: it must cost
# much less per packet than the server it measures.
# (webrtcbin.c is a program of its own, below)
PEER_SRCS  := $(filter-out tests/peer/webrtcbin.c,$(wildcard tests/peer/*.c))
PEER_HDRS  := $(wildcard tests/peer/*.h)
PEER_LIB   := $(addprefix relay/parley_,demux.c dtls.c rtcp.c rtcp_twcc.c rtp.c sdp.c \
              sdp_parse.c sdp_attr.c sdp_build.c sdp_write.c srtp.c \
              srtp_ossl.c stun.c)

peer: $(PEER)

$(PEER): $(PEER_SRCS) $(PEER_HDRS) $(PEER_LIB) $(RELAY_HDRS) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_T) -Itests/peer $(PEER_SRCS) $(PEER_LIB) $(LIBS_T) \
		-lwslay -ljansson -o $@

# GStreamer's webrtcbin as a parley client (tests/peer/webrtcbin.c): the
# test peer's run shows another WebRTC stack publishing and subscribing.
WEBRTCBIN  := $(BUILD)/peer/parley-webrtcbin
GST_PKGS   := gstreamer-webrtc-1.0 gstreamer-sdp-1.0 libsoup-3.0 jansson

$(WEBRTCBIN): tests/peer/webrtcbin.c | deps-test
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -Wall -Wextra -Werror -O2 -g $< \
		$$(pkg-config --cflags --libs $(GST_PKGS)) -o $@

# Media through nginx without a browser (tests/peer/run.sh), within a
# worker, across workers, and through renegotiation.
peer-test: $(MODULE) $(PEER) $(WEBRTCBIN)
	PARLEY_NGINX=$(NGINX) PARLEY_MODULE=$(MODULE) PARLEY_PEER=$(PEER) \
		PARLEY_WEBRTCBIN=$(WEBRTCBIN) bash tests/peer/run.sh

t: $(MODULE) $(HOOKS)
	TEST_NGINX_BINARY=$(NGINX) TEST_NGINX_LOAD_MODULES=$(MODULE) \
		TEST_PARLEY_HOOKS_MODULE=$(HOOKS) \
		prove -It/lib -r t/

# The same files under OpenResty's Test::Nginx, from a checkout of
# openresty/test-nginx outside this tree: make t-upstream
# TEST_NGINX_UPSTREAM=/path/to/test-nginx
t-upstream: $(MODULE) $(HOOKS)
	@sh tools/deps.sh upstream
	TEST_NGINX_BINARY=$(NGINX) TEST_NGINX_LOAD_MODULES=$(MODULE) \
		TEST_PARLEY_HOOKS_MODULE=$(HOOKS) sh tools/t-upstream.sh

# The delay of an impaired link (tests/netem/delay.c): this kernel has
# no netem, and the browser tests' lossy link needs one
DELAY      := $(BUILD)/netem/parley-delay

$(DELAY): tests/netem/delay.c | deps-test
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -Wall -Wextra -Werror -O2 -g $< \
		-lnetfilter_queue -lnfnetlink -o $@

browser: $(MODULE) $(DELAY)
	PARLEY_NGINX=$(NGINX) PARLEY_MODULE=$(MODULE) PARLEY_DELAY=$(DELAY) \
		sh tests/browser/run.sh

clean:
	rm -rf $(BUILD) t/servroot*
