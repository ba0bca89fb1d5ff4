// Processes, threads, APCs, debugging and jobs (server/process.c, thread.c,
// debugger.c, and the job object in process.c). Their state is the Unix
// processes themselves: wineserver learns pids and tids from the clients,
// sends signals (SIGUSR1 for suspension, SIGQUIT/SIGKILL for termination),
// ptraces for contexts and memory, and reaps children. Nothing of that is a
// named object with data.

import type { ForwardedEntry } from '../translator.ts';
import { family, P } from './define.ts';

const proc = family('processes/threads', ['processes']);
const debug = family('debug', ['processes']);
const job = family('jobs', ['processes']);

export const PROCESS_ENTRIES: ForwardedEntry[] = [
  proc('new_process', 'os-bound', 'registers the Unix process the client forked as a Windows process: inherits handles, token, job and debugger from the parent', { missing: ['process-control'] }),
  proc('get_new_process_info', 'os-bound', "reads whether a started child finished its initialisation and its exit code; it waits on the child's process object", { missing: ['wait-multiple'] }),
  proc('new_thread', 'os-bound', 'creates the thread object and its request pipe for a pthread the client creates; hands the thread handle to the caller', { missing: ['process-control'] }),
  proc('get_startup_info', 'shared-state', 'returns the startup info and environment the parent passed in new_process: data an object could hold, but written by forwarded new_process', { uses: [P.read] }),
  proc('init_process_done', 'os-bound', "marks the process initialised, wakes the parent's get_new_process_info and runs the debugger's create-process event", { missing: ['signal-wakeup'] }),
  proc('init_first_thread', 'os-bound', "the connection handshake: wineserver takes the client's reply and wait pipe fds, unix pid and tid; the proxy itself relays it", { missing: ['process-control'] }),
  proc('init_thread', 'os-bound', "the per-thread handshake (reply and wait pipe fds, unix tid, TEB); belongs to the thread's connection", { missing: ['process-control'] }),
  proc('terminate_process', 'os-bound', "kills the process's threads (SIGKILL after a grace period) and signals the process object", { missing: ['process-control', 'signal-wakeup'] }),
  proc('terminate_thread', 'os-bound', 'kills one thread by signal and signals the thread object', { missing: ['process-control', 'signal-wakeup'] }),
  proc('get_process_info', 'os-bound', 'pid, parent, PEB address, times, exit code and priority of a live process object'),
  proc('get_process_debug_info', 'os-bound', "the debug object attached to a process and the image info of its main exe, recorded at process creation"),
  proc('get_process_image_name', 'os-bound', "the NT or Win32 path of the process's main image, taken from its mapped views"),
  proc('get_process_vm_counters', 'os-bound', 'reads the Unix process memory counters from /proc/<pid>/status', { missing: ['process-control'] }),
  proc('set_process_info', 'os-bound', "sets priority and CPU affinity, which wineserver applies to the Unix threads (sched_setaffinity, setpriority)", { missing: ['process-control'] }),
  proc('get_thread_info', 'os-bound', 'tid, TEB, affinity, exit code, priority and suspend count of a live thread'),
  proc('get_thread_times', 'os-bound', 'creation and exit times plus the unix pid/tid of a thread'),
  proc('set_thread_info', 'os-bound', 'sets priority, affinity, token, description and entry point; priority and affinity go to the Unix thread', { missing: ['process-control'] }),
  proc('suspend_thread', 'os-bound', 'suspends a thread by sending it SIGUSR1 and waiting until it parks', { missing: ['process-control'] }),
  proc('resume_thread', 'os-bound', 'resumes a suspended thread (wakes it on its wait pipe)', { missing: ['process-control', 'signal-wakeup'] }),
  proc('queue_apc', 'os-bound', 'queues a user or system APC to a thread and wakes it out of an alertable wait; system APCs run in the target process', { missing: ['process-control', 'signal-wakeup'] }),
  proc('get_apc_result', 'shared-state', 'returns the result of a system APC another process ran; stored with the APC object that queue_apc created', { uses: [P.read] }),
  proc('open_process', 'os-bound', 'opens a handle to a live process object by pid'),
  proc('open_thread', 'os-bound', 'opens a handle to a live thread object by tid'),
  proc('list_processes', 'os-bound', 'snapshots every process and thread with their times, priorities and image names'),
  proc('get_thread_context', 'os-bound', "reads a thread's registers: the target thread must be stopped in a signal handler and hand its context over", { missing: ['process-control'] }),
  proc('set_thread_context', 'os-bound', "writes a thread's registers through the same handshake", { missing: ['process-control'] }),
  proc('get_selector_entry', 'os-bound', "reads an LDT entry of a thread (i386 only) from the process's LDT copy", { missing: ['process-control'] }),
  proc('make_process_system', 'os-bound', 'marks the process as a system process not counted for prefix shutdown and returns the event set when the last user process exits', { missing: ['signal-wakeup'] }),
  proc('suspend_process', 'os-bound', 'suspends every thread of a process by signal', { missing: ['process-control'] }),
  proc('resume_process', 'os-bound', 'resumes every thread of a process', { missing: ['process-control'] }),
  proc('get_next_thread', 'os-bound', "iterates the thread list of a live process, opening each thread"),

  debug('create_debug_obj', 'missing-primitive', 'a debug object is a queue of debug events a debugger blocks on', { missing: ['message-queue'], uses: [P.object] }),
  debug('wait_debug_event', 'missing-primitive', 'takes the next debug event, or returns a wait handle signalled when one arrives', { missing: ['message-queue', 'signal-wakeup'] }),
  debug('queue_exception_event', 'os-bound', 'stops the faulting thread and queues an exception event for its debugger', { missing: ['process-control', 'message-queue'] }),
  debug('get_exception_status', 'missing-primitive', 'the debugger verdict on a queued exception, available once the debugger continued it', { missing: ['message-queue'] }),
  debug('continue_debug_event', 'os-bound', 'resumes the threads a debug event stopped', { missing: ['process-control'] }),
  debug('debug_process', 'os-bound', 'attaches a debug object to a running process (generating the attach events) or detaches it', { missing: ['process-control', 'message-queue'] }),
  debug('set_debug_obj_info', 'shared-state', 'sets the kill-on-close flag of a debug object: one word of data, on an object the forwarded debug requests own', { uses: [P.object] }),
  debug('read_process_memory', 'os-bound', 'reads another process through ptrace or /proc/<pid>/mem', { missing: ['process-control'] }),
  debug('write_process_memory', 'os-bound', 'writes another process through ptrace or /proc/<pid>/mem', { missing: ['process-control'] }),

  job('create_job', 'os-bound', 'a job groups processes: limits, accounting and kill-on-close are applied to live processes', { missing: ['process-control'], uses: [P.object] }),
  job('open_job', 'shared-state', 'opens a job by name in the object namespace; the job itself is forwarded', { uses: [P.read], domains: ['processes', 'object-namespace'] }),
  job('assign_job', 'os-bound', 'adds a live process (and its future children) to a job', { missing: ['process-control'] }),
  job('process_in_job', 'shared-state', 'membership test; data of a job whose membership forwarded requests maintain', { uses: [P.read] }),
  job('set_job_limits', 'os-bound', 'sets limit flags (kill on close, breakaway, active process limit) enforced on live processes', { missing: ['process-control'] }),
  job('set_job_completion_port', 'missing-primitive', 'makes the job post its notifications to a completion port', { missing: ['message-queue'] }),
  job('get_job_info', 'shared-state', 'process counts of a job; data the forwarded job requests maintain', { uses: [P.read] }),
  job('terminate_job', 'os-bound', 'terminates every process of the job', { missing: ['process-control'] }),
];
