// Package volume prepares a Pod's volumes on the node, under the agent's root directory, and
// turns a container's volumeMounts into the bind mounts a runtime.Runtime applies.
//
// Layout: <root>/pods/<uid>/volumes/<kind>/<name>, with kind one of empty-dir, configmap and
// secret. A hostPath volume is the node's path itself, checked against its type
// (DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice) first.
//
//   - emptyDir is a directory that lives as long as the Pod; with medium Memory it is a tmpfs
//     when the agent may mount one (it runs as root), else a plain directory (logged once).
//   - configMap and secret volumes hold the selected keys as files (items: key → path, mode or
//     defaultMode; optional sources that do not exist give an empty volume). They are written
//     as the kubelet writes them: the files live in a timestamped directory "..<time>", the
//     symlink "..data" points at it, and each visible name is a symlink into "..data", so a
//     later Setup with changed data swaps the whole set in one rename and a reader never sees a
//     half-written volume. Both are mounted read-only.
//
// Setup is idempotent and cheap when nothing changed: the Pod worker calls it before it starts
// containers and again now and then to pick up changed ConfigMaps and Secrets. Cleanup removes
// everything of a Pod once its containers are gone.
package volume
