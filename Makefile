# parley: make run | make test | make bench
#
# The module is built against the distribution's nginx (nginx-dev's header
# tree), the way an operator would build it, into build/.

NGX_SRC    := /usr/share/nginx/src
NGINX      := /usr/sbin/nginx
BUILD      := $(CURDIR)/build
MODULE     := $(BUILD)/ngx_http_parley_module.so

CC         ?= cc
CFLAGS_T   := -std=gnu11 -Wall -Wextra -Werror -O2 -g -Ishm
SHM_SRCS   := $(wildcard shm/*.c)
SHM_HDRS   := $(wildcard shm/*.h)
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
MOD_SRCS   := $(wildcard ngx_module/*.c ngx_module/*.h ngx_module/app/*) \
              $(SHM_SRCS) $(SHM_HDRS)

.PHONY: all deps deps-test run test unit t browser clean

all: $(MODULE)

deps:
	@sh tools/deps.sh build

deps-test:
	@sh tools/deps.sh test

$(BUILD)/Makefile: config tools/build.sh tools/embed-assets.sh \
		$(wildcard ngx_module/app/*) | deps
	tools/build.sh $(BUILD)

$(MODULE): $(BUILD)/Makefile $(MOD_SRCS)
	$(MAKE) -f $(BUILD)/Makefile -C $(NGX_SRC) modules

# nginx in the foreground with conf/nginx.conf; Ctrl-C stops it.
run: $(MODULE)
	mkdir -p var/logs var/tmp
	@echo "parley: http://127.0.0.1:8080/  (Ctrl-C stops)"
	$(NGINX) -p $(CURDIR)/ -c conf/nginx.conf -e var/logs/error.log \
		-g 'daemon off;'

test: deps-test
	$(MAKE) $(MODULE)
	$(MAKE) unit
	$(MAKE) t
	$(MAKE) browser

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

$(BUILD)/tests/%: tests/unit/%.c $(SHM_SRCS) $(SHM_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_T) -fsanitize=address,undefined \
		-fno-sanitize-recover=all $< $(SHM_SRCS) -lcmocka -o $@

t: $(MODULE)
	TEST_NGINX_BINARY=$(NGINX) TEST_NGINX_LOAD_MODULES=$(MODULE) \
		prove -It/lib -r t/

browser: $(MODULE)
	PARLEY_NGINX=$(NGINX) PARLEY_MODULE=$(MODULE) sh tests/browser/run.sh

clean:
	rm -rf $(BUILD) t/servroot
