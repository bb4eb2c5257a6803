// Command corev1 only links k8s.io/api/core/v1 (the typed objects loki-cmp
// is built with): procbench times it as the start-up floor that dependency
// sets, whatever loki-cmp itself does.
package main

import corev1 "k8s.io/api/core/v1"

var _ corev1.Namespace

func main() {}
