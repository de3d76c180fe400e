# viewer.mk - the gdk-pixbuf loader (contrib/gdk-pixbuf/) where
# `pkg-config gdk-pixbuf-2.0` exists, its loaders.cache for the tests (so
# nothing needs installing), and the install rules of the loader, MIME type,
# thumbnailer and Python module (python/aecodec/).
PIXBUF_CFLAGS := $(shell pkg-config --cflags gdk-pixbuf-2.0 2>/dev/null)
PIXBUF_LIBS   := $(shell pkg-config --libs gdk-pixbuf-2.0 2>/dev/null)
PIXBUF_QUERY  := $(shell pkg-config --variable=gdk_pixbuf_query_loaders gdk-pixbuf-2.0 2>/dev/null)
PREFIX ?= /usr/local
PYTHON_DIR = $(DESTDIR)$(PREFIX)/lib/python3/dist-packages/aecodec
PY_SRC := $(wildcard python/aecodec/*.py)

# Not in sanitizer builds: gdk-pixbuf-query-loaders and the thumbnailer are
# not sanitized, and a sanitized module cannot be loaded into them.
SANITIZED := $(findstring -fsanitize,$(OPT) $(CFLAGS))
ifneq ($(if $(SANITIZED),,$(PIXBUF_LIBS)),)
PIXBUF_LOADER = $(BUILD)/pixbuf/libpixbufloader-aecodec.so
# libcodec.a is linked in with its symbols kept local, so the loader is one
# file with no run-time path to find and exports only fill_info/fill_vtable.
$(PIXBUF_LOADER): contrib/gdk-pixbuf/io-aecodec.c $(BUILD)/libcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(AEC_CFLAGS) $(PIXBUF_CFLAGS) $(CPPFLAGS) $(CFLAGS) -shared $(AEC_LDFLAGS) $(LDFLAGS) \
	    -Wl,--exclude-libs,ALL -o $@ $< $(BUILD)/libcodec.a $(PIXBUF_LIBS) $(AEC_LDLIBS) $(LDLIBS)
$(BUILD)/pixbuf/loaders.cache: $(PIXBUF_LOADER)
	$(PIXBUF_QUERY) $(abspath $<) > $@
$(BUILD)/tests/pixbuf_load: contrib/gdk-pixbuf/pixbuf_load.c
	@mkdir -p $(dir $@)
	$(CC) $(PIXBUF_CFLAGS) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(PIXBUF_LIBS)
all: $(BUILD)/pixbuf/loaders.cache $(BUILD)/tests/pixbuf_load

# The module directory under PREFIX: pkg-config's, with its prefix replaced.
PIXBUF_MODULEDIR = $(patsubst $(shell pkg-config --variable=prefix gdk-pixbuf-2.0)%,$(PREFIX)%,$(shell pkg-config --variable=gdk_pixbuf_moduledir gdk-pixbuf-2.0))
install-pixbuf: $(PIXBUF_LOADER)
	install -d $(DESTDIR)$(PIXBUF_MODULEDIR)
	install -m 755 $(PIXBUF_LOADER) $(DESTDIR)$(PIXBUF_MODULEDIR)/
uninstall-pixbuf:
	rm -f $(DESTDIR)$(PIXBUF_MODULEDIR)/libpixbufloader-aecodec.so
else
install-pixbuf uninstall-pixbuf:
	@echo "gdk-pixbuf-2.0 not found (or a sanitizer build): the pixbuf loader is not installed"
endif

install-viewer-data:
	install -d $(DESTDIR)$(PREFIX)/share/mime/packages $(DESTDIR)$(PREFIX)/share/thumbnailers
	install -m 644 contrib/gdk-pixbuf/aecodec-mime.xml $(DESTDIR)$(PREFIX)/share/mime/packages/aecodec.xml
	install -m 644 contrib/gdk-pixbuf/aecodec.thumbnailer $(DESTDIR)$(PREFIX)/share/thumbnailers/
install-python:
	install -d $(PYTHON_DIR)
	install -m 644 $(PY_SRC) $(PYTHON_DIR)/
uninstall-viewer:
	rm -f $(DESTDIR)$(PREFIX)/share/mime/packages/aecodec.xml \
	      $(DESTDIR)$(PREFIX)/share/thumbnailers/aecodec.thumbnailer
	rm -rf $(PYTHON_DIR)

# `make install` / `make uninstall` (mk/install.mk) run these parts.
.PHONY: install-pixbuf uninstall-pixbuf install-viewer-data install-python uninstall-viewer
