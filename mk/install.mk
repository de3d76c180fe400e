# SPDX-License-Identifier: BSD-3-Clause
# install.mk - `make install` and `make uninstall`: the one place both are
# defined.  Library, header, pkg-config file, tools and man pages are here;
# the gdk-pixbuf loader, MIME type, thumbnailer and Python module are
# mk/viewer.mk's parts.  Packagers: `make install DESTDIR=/tmp/pkg PREFIX=/usr`.
# `make install-models` (not part of install) puts the 32-bit model files
# of models/builtin.mk's two lists in MODELDIR, for packages that keep
# older files decodable (aedec --model MODELDIR/NAME.aem; the decoder's
# message names the file).
PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
MANDIR       ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
INSTALL      ?= install
LDCONFIG     ?= ldconfig
MODELDIR     ?= $(PREFIX)/share/aecodec/models
MAN_PAGES    := $(wildcard docs/man/*.1)
MODEL_FILES   = $(BUILTIN_MODELS:%=models/%.aem) $(RETIRED_MODELS:%=models/%.aem)

install: install-lib install-tools install-man install-pixbuf install-viewer-data install-python
uninstall: uninstall-lib uninstall-tools uninstall-man uninstall-pixbuf uninstall-viewer \
           uninstall-models

# libcodec.so.X.Y.Z, libcodec.so.X -> it (the soname, what programs load)
# and libcodec.so -> libcodec.so.X (what -lcodec finds when linking).
install-lib: $(BUILD)/$(SO_FILE) $(BUILD)/libcodec.a include/aecodec.h aecodec.pc.in
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	$(INSTALL) -m 644 include/aecodec.h $(DESTDIR)$(INCLUDEDIR)/
	$(INSTALL) -m 755 $(BUILD)/$(SO_FILE) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SO_FILE) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libcodec.so
	$(INSTALL) -m 644 $(BUILD)/libcodec.a $(DESTDIR)$(LIBDIR)/
	sed -e '/^#/d' -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    aecodec.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/aecodec.pc
	@# The loader cache is the system's: only for a real install, as root.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
	    echo "$(LDCONFIG)"; $(LDCONFIG) || true; fi
uninstall-lib:
	rm -f $(DESTDIR)$(INCLUDEDIR)/aecodec.h $(DESTDIR)$(PKGCONFIGDIR)/aecodec.pc \
	      $(DESTDIR)$(LIBDIR)/$(SO_FILE) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	      $(DESTDIR)$(LIBDIR)/libcodec.so $(DESTDIR)$(LIBDIR)/libcodec.a

install-tools: $(TOOL_BIN)
	$(INSTALL) -d $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 755 $(TOOL_BIN) $(DESTDIR)$(BINDIR)/
uninstall-tools:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%)

install-man: $(MAN_PAGES)
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man1/
uninstall-man:
	rm -f $(MAN_PAGES:docs/man/%=$(DESTDIR)$(MANDIR)/man1/%)

install-models: $(MODEL_FILES)
	$(INSTALL) -d $(DESTDIR)$(MODELDIR)
	$(INSTALL) -m 644 $(MODEL_FILES) $(DESTDIR)$(MODELDIR)/
uninstall-models:
	rm -f $(MODEL_FILES:models/%=$(DESTDIR)$(MODELDIR)/%)

.PHONY: install uninstall install-lib uninstall-lib install-tools uninstall-tools \
        install-man uninstall-man install-models uninstall-models
