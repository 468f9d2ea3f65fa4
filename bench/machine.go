package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machine describes where the benchmarks ran.
type machine struct {
	cpus      int
	cpuModel  string
	memory    string
	kernel    string
	goVersion string
	dataFS    string
	date      time.Time
	// loadBefore and loadAfter are the 1-minute load averages when the run started and ended:
	// other work on the machine competes with the benchmark for the CPUs.
	loadBefore, loadAfter string
}

// describeMachine reads the machine's description from /proc; what it cannot read stays
// "unknown". dataDir is where etcd keeps its data.
func describeMachine(dataDir string) machine {
	m := machine{
		cpus:      runtime.NumCPU(),
		cpuModel:  "unknown",
		memory:    "unknown",
		kernel:    "unknown",
		goVersion: runtime.Version(),
		dataFS:    "unknown",
		date:      time.Now().UTC(),
	}
	m.loadBefore = loadAverage()
	if v := procField("/proc/cpuinfo", "model name", ":"); v != "" {
		m.cpuModel = v
	}
	if v := procField("/proc/meminfo", "MemTotal", ":"); v != "" {
		if kb, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64); err == nil {
			m.memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if fs := mountOf(dataDir); fs != "" {
		m.dataFS = fs
	}
	return m
}

// procField returns the value of the first line "key<sep> value" of a /proc file.
func procField(path, key, sep string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), sep)
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// mountOf describes the file system that holds path ("ext4 on /dev/vda"), from the longest
// matching mount point in /proc/self/mounts.
func mountOf(path string) string {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return ""
	}
	best, desc := -1, ""
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		dev, mnt, fstype := f[0], f[1], f[2]
		if (path == mnt || strings.HasPrefix(path, strings.TrimSuffix(mnt, "/")+"/")) && len(mnt) > best {
			best, desc = len(mnt), fstype+" on "+dev
		}
	}
	return desc
}

// loadAverage returns the 1-minute load average, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// userHZ is the unit of the CPU times in /proc/<pid>/stat: USER_HZ, 100 on every Linux
// architecture Go supports.
const userHZ = 100

// procUsage is this process's resource usage at one moment.
type procUsage struct {
	// cpu is the user and system CPU time consumed since the process started.
	cpu time.Duration
	// rss is the resident set size; peakRSS its high-water mark. rssAnon is the part of rss in
	// anonymous memory (heap, stacks), rssFile the part in mapped files (etcd maps its
	// database file).
	rss, peakRSS, rssAnon, rssFile int64
}

// readUsage reads this process's CPU time from /proc/self/stat and its resident memory from
// /proc/self/status.
func readUsage() (procUsage, error) {
	var u procUsage
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return u, fmt.Errorf("read CPU usage: %w", err)
	}
	// The command name, in parentheses, may contain spaces: fields are counted after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return u, fmt.Errorf("read CPU usage: malformed /proc/self/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// After the name come state (field 3 of proc(5)), ..., utime (14) and stime (15).
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return u, fmt.Errorf("read CPU usage: short /proc/self/stat")
	}
	ut, err1 := strconv.ParseInt(f[utime], 10, 64)
	st, err2 := strconv.ParseInt(f[stime], 10, 64)
	if err1 != nil || err2 != nil {
		return u, fmt.Errorf("read CPU usage: malformed /proc/self/stat")
	}
	u.cpu = time.Duration(ut+st) * time.Second / userHZ
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return u, fmt.Errorf("read memory usage: %w", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			u.rss = kb << 10
		case "VmHWM":
			u.peakRSS = kb << 10
		case "RssAnon":
			u.rssAnon = kb << 10
		case "RssFile":
			u.rssFile = kb << 10
		}
	}
	return u, nil
}
