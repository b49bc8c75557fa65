package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuSample is the CPU time used so far by the gateway process, by this
// process (load generator, and the native client in native rows) and by the
// whole machine, read before and after each row so every row reports CPU
// per message: the figure that stays meaningful on a loaded machine.
type cpuSample struct {
	gateway, self, machineBusy, machineAll time.Duration
	// broker and redis are the stack's broker and Redis processes (0 when
	// their pids are unknown).
	broker, redis time.Duration
}

// cpuColumns heads the cells cpuCells writes.
const cpuColumns = "gateway\tbroker\tredis\tbench\tmachine busy\tmachine busy %\t"

// cpuCells writes c shared over n units (messages, transactions) as
// tab-terminated cells under cpuColumns.
func cpuCells(c cpuSample, n int) string {
	per := func(d time.Duration) string { return fmtMicros(d / time.Duration(n)) }
	return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%.0f%%\t", per(c.gateway), per(c.broker), per(c.redis), per(c.self),
		per(c.machineBusy), 100*float64(c.machineBusy)/float64(c.machineAll))
}

// stackPIDs are the processes of the stack the bench runs on, read from
// the pid files of stack.sh ($ZL_STACK_DIR/run); 0 when unknown.
type stackPIDs struct {
	broker, redis int
}

// readStackPIDs reads the broker's and Redis's pids from dir/run.
func readStackPIDs(dir string) stackPIDs {
	read := func(name string) int {
		if dir == "" {
			return 0
		}
		b, err := os.ReadFile(filepath.Join(dir, "run", name+".pid"))
		if err != nil {
			return 0
		}
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}
	return stackPIDs{broker: read("broker"), redis: read("redis")}
}

// clockTick is USER_HZ, the unit of /proc's CPU times (100 on Linux).
const clockTick = 10 * time.Millisecond

func sampleCPU(gatewayPID int, stack stackPIDs) cpuSample {
	var s cpuSample
	s.gateway = procCPU(gatewayPID)
	s.broker, s.redis = procCPU(stack.broker), procCPU(stack.redis)
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	s.machineBusy, s.machineAll = machineCPU()
	return s
}

func (s cpuSample) sub(o cpuSample) cpuSample {
	return cpuSample{gateway: s.gateway - o.gateway, self: s.self - o.self,
		machineBusy: s.machineBusy - o.machineBusy, machineAll: s.machineAll - o.machineAll,
		broker: s.broker - o.broker, redis: s.redis - o.redis}
}

// jitCPU returns the CPU time the JVM pid's JIT compiler threads (C1 and
// C2) that are alive used so far, 0 if unreadable. The JVM may end idle
// compiler threads (UseDynamicNumberOfCompilerThreads), taking their time
// with them: with more than the 2 cores here, where it keeps one of each,
// a round's share can read low.
func jitCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, t := range tasks {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/comm", pid, t.Name()))
		if err != nil || !strings.HasPrefix(string(comm), "C1 CompilerThre") && !strings.HasPrefix(string(comm), "C2 CompilerThre") {
			continue
		}
		sum += statCPU(fmt.Sprintf("/proc/%d/task/%s/stat", pid, t.Name()))
	}
	return sum
}

// procCPU returns utime+stime of pid from /proc/<pid>/stat, 0 if unreadable.
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	return statCPU(fmt.Sprintf("/proc/%d/stat", pid))
}

// statCPU returns utime+stime from a /proc stat file, 0 if unreadable.
func statCPU(path string) time.Duration {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	// The command name may hold spaces: fields start after the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * clockTick
}

// machineCPU returns the busy and total CPU time of all cores (/proc/stat).
func machineCPU() (busy, all time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0
	}
	var sum, idle int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i < 8 { // user nice system idle iowait irq softirq steal (guest is in user)
			sum += n
		}
		if i == 3 || i == 4 {
			idle += n
		}
	}
	return time.Duration(sum-idle) * clockTick, time.Duration(sum) * clockTick
}

// freeAddr asks the kernel for a free loopback port.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// profileGateway writes a CPU profile of the gateway over d to dir/name.pprof
// (the gateway's pprof listener, see pprofListen).
func profileGateway(ctx context.Context, pprofAddr, dir, name string, d time.Duration) error {
	secs := max(1, int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile %s: status %d", name, resp.StatusCode)
	}
	f, err := os.Create(filepath.Join(dir, name+".pprof"))
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// loadAverage is the first three fields of /proc/loadavg (1, 5, 15 min).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
