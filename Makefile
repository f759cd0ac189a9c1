# roster — build and package.
#   make build   static-as-possible binary in dist/roster, version and commit stamped
#   make deb     Debian package in dist/ (nfpm), from a fresh `make build`
#   make test    go vet + go test (what CI runs)

NFPM_VERSION ?= v2.45.0
GIT_VERSION  := $(shell git describe --tags --match 'v[0-9]*' 2>/dev/null | sed 's/^v//')
VERSION      ?= $(if $(GIT_VERSION),$(GIT_VERSION),0.0.0~dev)
COMMIT       ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
GOARCH       ?= $(shell go env GOARCH)
DIST         ?= dist
BIN          ?= $(DIST)/roster

# SQLite is cgo (mattn/go-sqlite3): link statically against libc; netgo and
# osusergo keep glibc's NSS (which cannot be linked statically) out.
GO_TAGS  := osusergo netgo sqlite_omit_load_extension
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -linkmode external -extldflags "-static"

.PHONY: build deb test clean

build:
	@mkdir -p $(dir $(BIN))
	CGO_ENABLED=1 go build -trimpath -tags '$(GO_TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/roster
	@$(BIN) version

# PREBUILT=1 packages an existing $(BIN) as it is (the packaging test does).
deb: $(if $(PREBUILT),,build)
	@mkdir -p $(DIST)
	@# nfpm expands ${VAR} in version and arch but not in contents: fill the binary's path in.
	sed 's|$${ROSTER_BIN}|$(abspath $(BIN))|' nfpm.yaml > $(DIST)/nfpm.yaml
	VERSION=$(VERSION) GOARCH=$(GOARCH) \
		go run github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION) package --config $(DIST)/nfpm.yaml --packager deb --target $(DIST)/

test:
	go vet ./...
	go test ./...

clean:
	rm -rf $(DIST)
