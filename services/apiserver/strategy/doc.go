// Package strategy holds what is particular to each resource in the apiserver: defaulting and
// validation (from pkg/defaults and pkg/validation), what a create resets, the selectable
// fields, namespace admission, Pod deletion grace, Namespace termination, Secret
// stringData, and Services' IP family fields, cluster IP and node port allocation (through
// the allocators it is given). The generic registry calls it through registry.Strategy and its optional
// interfaces; nothing here touches storage.
package strategy
