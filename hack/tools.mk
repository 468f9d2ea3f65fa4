# Versions of the tools the build uses: the one place they are pinned. Each is installed with
# `go install pkg@version` into _output/tools/bin (GOBIN) and used from there, never from PATH.
# Bumping a version here reinstalls that tool on the next make.

BUF_VERSION                := v1.50.0
PROTOC_GEN_GO_VERSION      := v1.36.6
PROTOC_GEN_GO_GRPC_VERSION := v1.5.1
# The same grpc-gateway version as go.mod's github.com/grpc-ecosystem/grpc-gateway/v2, whose
# runtime the generated *.pb.gw.go files call.
PROTOC_GEN_GRPC_GATEWAY_VERSION := v2.26.3
# honnef.co/go/tools v0.8.2 is the module version of staticcheck 2026.2.2
# (`staticcheck -version` prints "staticcheck 2026.2.2 (0.8.2)").
STATICCHECK_VERSION        := v0.8.2

TOOLS_DIR   := $(CURDIR)/_output/tools
TOOLS_BIN   := $(TOOLS_DIR)/bin
TOOLS_STAMP := $(TOOLS_DIR)/stamps

BUF                := $(TOOLS_BIN)/buf
PROTOC_GEN_GO      := $(TOOLS_BIN)/protoc-gen-go
PROTOC_GEN_GO_GRPC := $(TOOLS_BIN)/protoc-gen-go-grpc
PROTOC_GEN_GRPC_GATEWAY := $(TOOLS_BIN)/protoc-gen-grpc-gateway
STATICCHECK        := $(TOOLS_BIN)/staticcheck

# go-tool installs one tool: $(1) binary name, $(2) package, $(3) version. The stamp file
# records which version is installed, so changing a version above reinstalls.
define go-tool
$(TOOLS_STAMP)/$(1)@$(3):
	@mkdir -p $(TOOLS_BIN) $(TOOLS_STAMP)
	GOBIN=$(TOOLS_BIN) go install $(2)@$(3)
	@rm -f $(TOOLS_STAMP)/$(1)@*
	@touch $$@
$(1)-tool := $(TOOLS_STAMP)/$(1)@$(3)
endef

$(eval $(call go-tool,buf,github.com/bufbuild/buf/cmd/buf,$(BUF_VERSION)))
$(eval $(call go-tool,protoc-gen-go,google.golang.org/protobuf/cmd/protoc-gen-go,$(PROTOC_GEN_GO_VERSION)))
$(eval $(call go-tool,protoc-gen-go-grpc,google.golang.org/grpc/cmd/protoc-gen-go-grpc,$(PROTOC_GEN_GO_GRPC_VERSION)))
$(eval $(call go-tool,protoc-gen-grpc-gateway,github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway,$(PROTOC_GEN_GRPC_GATEWAY_VERSION)))
$(eval $(call go-tool,staticcheck,honnef.co/go/tools/cmd/staticcheck,$(STATICCHECK_VERSION)))

# What `make generate` needs, and every tool.
GEN_TOOLS := $(buf-tool) $(protoc-gen-go-tool) $(protoc-gen-go-grpc-tool) $(protoc-gen-grpc-gateway-tool)
ALL_TOOLS := $(GEN_TOOLS) $(staticcheck-tool)
