# The loki-cmp Argo CD plugin sidecar image: the static binary and
# plugin.yaml, nothing else (no shell, no package manager).
#
# The binary is built outside (no base image or Go image is needed):
#   make image    # = make build, then docker build or buildah bud
# The sidecar's command, /var/run/argocd/argocd-cmp-server, is Argo CD's own
# binary, copied into a shared volume by the repo-server's init container.
FROM scratch

COPY bin/loki-cmp /usr/local/bin/loki-cmp
COPY plugin.yaml /home/argocd/cmp-server/config/plugin.yaml

# The cmp-server runs `loki-cmp` through PATH; a scratch image has none.
ENV PATH=/usr/local/bin HOME=/tmp

# Argo CD's uid; the pod's securityContext requires a numeric non-root user.
USER 999:999

ENTRYPOINT ["/usr/local/bin/loki-cmp"]
CMD ["version"]
