# Builds one step of the tutorial into a small image that runs as a non-root
# user. Radix builds this file (the component's src is the repository root);
# to build and run it yourself, from the repository root:
#
#   podman build -t radix-tutorial .
#   podman run --rm -p 5000:5000 radix-tutorial
#
# docker build and docker run take the same arguments. STEP picks another
# step: podman build --build-arg STEP=02-radix -t radix-tutorial .

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
# STEP is the step Radix deploys; go run ./tools/cmd/deploystep changes it.
ARG STEP=03-auth-proxy
WORKDIR /src
# The module files come first, so the download layer is reused until they change.
COPY steps/${STEP}/go.mod steps/${STEP}/go.sum ./
RUN go mod download
COPY steps/${STEP}/ ./
RUN CGO_ENABLED=0 GOWORK=off go build -trimpath -ldflags="-s -w" -o /hello .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /hello /hello
# Radix refuses containers that run as root, and it cannot check a user name,
# so this is the numeric id of the image's nonroot user.
USER 65532:65532
EXPOSE 5000
ENTRYPOINT ["/hello"]
