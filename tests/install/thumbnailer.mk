# Builds examples/thumbnailer against an installed airlock with nothing but pkg-config
# (docs/install.md):
#
#   PKG_CONFIG_PATH=PREFIX/lib/pkgconfig make -f thumbnailer.mk \
#       SRC=<copy of examples/thumbnailer> INTERFACES=<dir holding image_decoder.capnp>
#
# Writes thumbnailer-worker and thumbnailer-host into the current directory.

PKG_CONFIG ?= pkg-config
CAPNP ?= capnp
CXX = c++
CXXFLAGS ?= -O1
# The SDK headers need C++20; -I. finds the generated <airlock/examples/image_decoder.capnp.h>.
CXXFLAGS += -std=c++20 -I.

WORKER_CFLAGS := $(shell $(PKG_CONFIG) --cflags airlock-worker libpng)
WORKER_LIBS := $(shell $(PKG_CONFIG) --libs airlock-worker libpng)
HOST_CFLAGS := $(shell $(PKG_CONFIG) --cflags airlock-host)
HOST_LIBS := $(shell $(PKG_CONFIG) --libs airlock-host)

all: thumbnailer-worker thumbnailer-host

airlock/examples/image_decoder.capnp.c++ airlock/examples/image_decoder.capnp.h: \
    $(INTERFACES)/image_decoder.capnp
	mkdir -p airlock/examples
	$(CAPNP) compile -oc++:airlock/examples --src-prefix=$(INTERFACES) $<

image_decoder.o: airlock/examples/image_decoder.capnp.c++
	$(CXX) $(CXXFLAGS) $(HOST_CFLAGS) -c $< -o $@

worker.o png_decode.o: %.o: $(SRC)/%.cc airlock/examples/image_decoder.capnp.h
	$(CXX) $(CXXFLAGS) $(WORKER_CFLAGS) -c $< -o $@

host.o: $(SRC)/host.cc airlock/examples/image_decoder.capnp.h
	$(CXX) $(CXXFLAGS) $(HOST_CFLAGS) -c $< -o $@

thumbnailer-worker: worker.o png_decode.o image_decoder.o
	$(CXX) $^ $(WORKER_LIBS) -o $@

thumbnailer-host: host.o image_decoder.o
	$(CXX) $^ $(HOST_LIBS) -o $@

.PHONY: all
