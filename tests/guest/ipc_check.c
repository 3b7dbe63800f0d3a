/* ipc_check: synchronous IPC (abi/l4.h) between threads of one task and
 * across tasks: send, receive, call, reply-and-wait; zero timeouts;
 * receive from any and from one; ids of deleted threads; a partner
 * deleted while we wait; bad arguments; IPC across CPUs; and many thread
 * pairs ping-ponging on every CPU at once, every word of every message
 * checked. */
#include <user/l4.h>
#include <user/stdio.h>
#include <user/string.h>
#include <user/tap.h>

#define MARK_ID 0x4943 /* "IC": this program's markers */
#define WAIT_YIELDS 100000

static km_tid me;
static struct km_sysinfo si;

/* A recognisable word for message m, word k. */
static km_u64 pattern(km_u64 m, unsigned k)
{
    return (m * 0x9e3779b97f4a7c15ull) ^ (k * 0x0101010101010101ull) ^ k;
}

/* ---- one task: send / receive ------------------------------------------- */

struct rx_result {
    volatile long r;
    km_tid sender;
    km_u64 tag;
    km_u64 mr[KM_MR_COUNT];
};
static struct rx_result rx;

static void receive_from_main(void *arg)
{
    (void)arg;
    rx.r = l4_receive(me);
    struct km_utcb *u = utcb();
    rx.sender = u->sender;
    rx.tag = u->tag;
    memcpy(rx.mr, u->mr, sizeof rx.mr);
}

static void check_send_receive(void)
{
    struct l4_thread t;
    memset(&rx, 0, sizeof rx);
    long r = l4_thread_start(&t, 0, receive_from_main, 0);
    if (!tap_ok(r == 0, "start a thread in the own task (%s)", sys_errname(r)))
        return;
    for (unsigned k = 0; k < 5; k++)
        l4_set_mr(k, pattern(1, k));
    EXPECT(l4_send(t.tid, l4_tag(0x1234, 5, 0)), 0, "send 5 words to a thread of the own task");
    l4_thread_join(&t);
    tap_ok(rx.r == 0, "its receive from the main thread returns 0 (%s)", sys_errname(rx.r));
    tap_ok(rx.sender == me, "the receiver sees the sender's id (%lx, want %lx)", rx.sender, me);
    tap_ok(KM_TAG_LABEL(rx.tag) == 0x1234 && KM_TAG_U(rx.tag) == 5 && KM_TAG_T(rx.tag) == 0,
           "the receiver gets the tag (label, u, t) (%lx)", rx.tag);
    int same = 1;
    for (unsigned k = 0; k < 5; k++)
        same &= rx.mr[k] == pattern(1, k);
    tap_ok(same, "the receiver gets MR0..MR4");
}

/* ---- one task: call / reply-and-wait ------------------------------------ */

#define LABEL_ECHO 0x45 /* reply: MR[k] + k + 1 for each word, same count */
#define LABEL_QUIT 0x51

/* Echo server: replies to each call until LABEL_QUIT; counts requests.
 * The count and the server's CPU are in *s. */
struct server {
    struct l4_thread t;
    volatile unsigned long served;
    volatile long cpu;
    volatile long err;
};

static void echo_server(void *arg)
{
    struct server *s = arg;
    struct km_sysinfo mine;
    memset(&mine, 0, sizeof mine); /* in another task: the kernel does not fault it in */
    s->cpu = sys_sysinfo(&mine) == 0 ? (long)mine.cpu : -1;
    long r = l4_receive_any();
    for (;;) {
        if (r < 0) {
            s->err = r;
            return;
        }
        struct km_utcb *u = utcb();
        km_tid client = u->sender;
        km_u64 tag = u->tag;
        unsigned n = KM_TAG_U(tag);
        if (KM_TAG_LABEL(tag) == LABEL_QUIT) {
            l4_reply(client, l4_tag(LABEL_QUIT, 0, 0));
            return;
        }
        for (unsigned k = 0; k < n; k++)
            u->mr[k] += k + 1;
        s->served++;
        r = l4_reply_and_wait(client, l4_tag(LABEL_ECHO, n, 0));
    }
}

/* n calls with 1..8 words each; returns the number of good replies. */
static unsigned long call_echo(km_tid server, unsigned long n, km_u64 seed)
{
    unsigned long good = 0;
    for (unsigned long i = 0; i < n; i++) {
        unsigned words = 1 + (unsigned)(i % 8);
        struct km_utcb *u = utcb();
        for (unsigned k = 0; k < words; k++)
            u->mr[k] = pattern(seed + i, k);
        long r = l4_call(server, l4_tag(0x100 + i % 7, words, 0));
        u = utcb();
        int ok = r == 0 && u->sender == server && KM_TAG_LABEL(u->tag) == LABEL_ECHO &&
                 KM_TAG_U(u->tag) == words && KM_TAG_T(u->tag) == 0;
        for (unsigned k = 0; ok && k < words; k++)
            ok = u->mr[k] == pattern(seed + i, k) + k + 1;
        if (ok)
            good++;
        else if (good + 5 > i) /* the first few failures only */
            tap_diag("call %lu: r=%ld (%s) sender=%lx tag=%lx mr0=%lx", i, r, sys_errname(r),
                     u->sender, u->tag, u->mr[0]);
    }
    return good;
}

static int stop_server(struct server *s)
{
    long r = l4_call(s->t.tid, l4_tag(LABEL_QUIT, 0, 0));
    if (r == 0)
        l4_thread_join(&s->t);
    return r == 0;
}

static struct server srv;

static void check_call(void)
{
    memset(&srv, 0, sizeof srv);
    long r = l4_thread_start(&srv.t, 0, echo_server, &srv);
    if (!tap_ok(r == 0, "start an echo server thread (%s)", sys_errname(r)))
        return;
    unsigned long good = call_echo(srv.t.tid, 100, 1000);
    tap_ok(good == 100, "100 calls to a thread of the own task, all replies right (%lu)", good);
    tap_ok(srv.served == 100, "the server saw 100 requests (%lu)", srv.served);
    tap_ok(stop_server(&srv), "the server stops on request");
    tap_ok(srv.err == 0, "the server's reply-and-wait never failed (%s)", sys_errname(srv.err));
}

/* ---- registers across a call and a reply-and-wait ---------------------- */

/* long regs_ipc(const km_u64 in[10], km_u64 out[12]): sys_ipc(in[0],
 * in[1], in[2], in[3]) with rbx rbp r12 r13 r14 r15 = in[4..9], r8 = 0 and
 * r9 = REGS_R9; out: those six, then rdi rsi rdx r10 r8 r9, as the system
 * call left them (the ABI: all kept but rax, rcx, r11). */
#define REGS_R9 0x5a5a0009ul
#define REGS_SYS_IPC 8
KM_STATIC_ASSERT(REGS_SYS_IPC == KM_SYS_IPC, "regs_ipc: the IPC system call's number");
#define REGS_STR2(x) #x
#define REGS_STR(x) REGS_STR2(x)
long regs_ipc(const km_u64 *in, km_u64 *out);
__asm__(".text\n"
        ".global regs_ipc\n"
        "regs_ipc:\n"
        "    push %rbx\n    push %rbp\n    push %r12\n    push %r13\n    push %r14\n    push %r15\n"
        "    push %rsi\n"
        "    mov 32(%rdi), %rbx\n    mov 40(%rdi), %rbp\n    mov 48(%rdi), %r12\n"
        "    mov 56(%rdi), %r13\n    mov 64(%rdi), %r14\n    mov 72(%rdi), %r15\n"
        "    mov 24(%rdi), %r10\n    mov 16(%rdi), %rdx\n    mov 8(%rdi), %rsi\n    mov (%rdi), %rdi\n"
        "    xor %r8d, %r8d\n    mov $" REGS_STR(REGS_R9) ", %r9\n"
        "    mov $" REGS_STR(REGS_SYS_IPC) ", %eax\n"
        "    syscall\n"
        "    mov (%rsp), %rcx\n"
        "    mov %rbx, 0(%rcx)\n    mov %rbp, 8(%rcx)\n    mov %r12, 16(%rcx)\n"
        "    mov %r13, 24(%rcx)\n    mov %r14, 32(%rcx)\n    mov %r15, 40(%rcx)\n"
        "    mov %rdi, 48(%rcx)\n    mov %rsi, 56(%rcx)\n    mov %rdx, 64(%rcx)\n"
        "    mov %r10, 72(%rcx)\n    mov %r8, 80(%rcx)\n    mov %r9, 88(%rcx)\n"
        "    add $8, %rsp\n"
        "    pop %r15\n    pop %r14\n    pop %r13\n    pop %r12\n    pop %rbp\n    pop %rbx\n"
        "    ret\n");

/* Whether out is what regs_ipc(in, out) should leave. */
static int regs_kept(const km_u64 *in, const km_u64 *out)
{
    for (unsigned k = 0; k < 6; k++)
        if (out[k] != in[4 + k])
            return 0;
    return out[6] == in[0] && out[7] == in[1] && out[8] == in[2] && out[9] == in[3] && out[10] == 0 &&
           out[11] == REGS_R9;
}

#define REGS_ROUNDS 50
static struct l4_thread regs_thr;
static volatile unsigned long regs_server_good, regs_server_bad;

/* Receives, then answers each call with reply-and-wait (both through
 * regs_ipc, other values each time) until LABEL_QUIT. */
static void regs_server(void *arg)
{
    (void)arg;
    km_u64 in[10] = {KM_NILTHREAD, KM_ANYTHREAD, 0, 0}, out[12];
    for (unsigned i = 0;; i++) {
        for (unsigned k = 0; k < 6; k++)
            in[4 + k] = 0x5e0000000000ul + i * 0x100 + k;
        long r = regs_ipc(in, out);
        if (r == 0 && regs_kept(in, out))
            regs_server_good++;
        else
            regs_server_bad++;
        km_tid client = utcb()->sender;
        if (r < 0 || KM_TAG_LABEL(utcb()->tag) == LABEL_QUIT) {
            l4_reply(client, l4_tag(LABEL_QUIT, 0, 0));
            return;
        }
        utcb()->mr[0] += 1;
        in[0] = client;
        in[3] = l4_tag(LABEL_ECHO, 1, 0);
    }
}

/* Every register a call and a reply-and-wait keep is kept on both sides:
 * each blocks in its receive and gets the other's message, which may end
 * its system call straight from its syscall frame (ipc.c:
 * resumes_at_syscall). */
static void check_call_registers(void)
{
    regs_server_good = regs_server_bad = 0;
    long r = l4_thread_start(&regs_thr, 0, regs_server, 0);
    if (!tap_ok(r == 0, "start a server for the register check (%s)", sys_errname(r)))
        return;
    unsigned long good = 0;
    km_u64 in[10] = {regs_thr.tid, regs_thr.tid, 0, l4_tag(0x77, 1, 0)}, out[12];
    for (unsigned i = 0; i < REGS_ROUNDS; i++) {
        for (unsigned k = 0; k < 6; k++)
            in[4 + k] = 0xc10000000000ul + i * 0x100 + k;
        utcb()->mr[0] = 1000 + i;
        r = regs_ipc(in, out);
        int ok = r == 0 && regs_kept(in, out) && utcb()->mr[0] == 1001 + i;
        if (ok)
            good++;
        else if (good + 3 > i)
            tap_diag("call %u: r=%ld rbx=%lx r15=%lx rdi=%lx r9=%lx mr0=%lu", i, r, out[0], out[5], out[6],
                     out[11], utcb()->mr[0]);
    }
    tap_ok(good == REGS_ROUNDS, "%d calls: rbx rbp r12-r15 rdi rsi rdx r10 r8 r9 kept by each (%lu)",
           REGS_ROUNDS, good);
    r = l4_call(regs_thr.tid, l4_tag(LABEL_QUIT, 0, 0));
    if (r == 0)
        l4_thread_join(&regs_thr);
    tap_ok(r == 0, "the register server stops on request (%s)", sys_errname(r));
    tap_ok(regs_server_good == REGS_ROUNDS + 1 && regs_server_bad == 0,
           "and its receive and reply-and-waits kept them too (%lu good, %lu bad)", regs_server_good,
           regs_server_bad);
}

/* ---- zero timeouts -------------------------------------------------------- */

static volatile int idle_stop;

/* Never receives, never sends: a thread that is simply busy. */
static void idle_thread(void *arg)
{
    (void)arg;
    while (!idle_stop)
        sys_yield();
}

/* Blocks sending one word to the main thread. */
static volatile long sent_r;
static void send_to_main(void *arg)
{
    l4_set_mr(0, (km_u64)(unsigned long)arg);
    sent_r = l4_send(me, l4_tag(0x5e, 1, 0));
}

static void check_timeouts(void)
{
    struct l4_thread idle, rcv, snd;

    idle_stop = 0;
    if (!tap_ok(l4_thread_start(&idle, 0, idle_thread, 0) == 0, "start a busy thread"))
        return;
    EXPECT(l4_send_nowait(idle.tid, l4_tag(1, 0, 0)), -KM_ETIMEOUT,
           "send with zero timeout to a thread that is not receiving -> -KM_ETIMEOUT");
    tap_ok(utcb()->error == KM_IPCERR_SEND, "UTCB error says the send phase failed (%lu)",
           utcb()->error);
    EXPECT(l4_call_nowait(idle.tid, l4_tag(1, 0, 0)), -KM_ETIMEOUT,
           "call with zero send timeout to a busy thread -> -KM_ETIMEOUT");
    EXPECT(l4_receive_any_nowait(), -KM_ETIMEOUT,
           "receive from any with zero timeout, nothing pending -> -KM_ETIMEOUT");
    tap_ok(utcb()->error == KM_IPCERR_RECV, "UTCB error says the receive phase failed (%lu)",
           utcb()->error);
    EXPECT(l4_receive_nowait(idle.tid), -KM_ETIMEOUT,
           "receive with zero timeout from a thread that is not sending -> -KM_ETIMEOUT");
    idle_stop = 1;
    l4_thread_join(&idle);

    /* The partner is ready: zero timeouts succeed. */
    memset(&rx, 0, sizeof rx);
    if (tap_ok(l4_thread_start(&rcv, 0, receive_from_main, 0) == 0, "start a receiver")) {
        tap_ok(l4_wait_state(rcv.tid, KM_TSTATE_RECEIVING, WAIT_YIELDS),
               "exregs READ reports it RECEIVING");
        l4_set_mr(0, 77);
        EXPECT(l4_send_nowait(rcv.tid, l4_tag(2, 1, 0)), 0,
               "send with zero timeout to a waiting receiver succeeds");
        l4_thread_join(&rcv);
        tap_ok(rx.r == 0 && rx.mr[0] == 77, "and it got the word (%ld, %lu)", rx.r, rx.mr[0]);
    }
    sent_r = 1;
    if (tap_ok(l4_thread_start(&snd, 0, send_to_main, (void *)42ul) == 0, "start a sender")) {
        tap_ok(l4_wait_state(snd.tid, KM_TSTATE_SENDING, WAIT_YIELDS),
               "exregs READ reports it SENDING");
        EXPECT(l4_receive_nowait(snd.tid), 0, "receive with zero timeout from a waiting sender");
        tap_ok(l4_sender() == snd.tid && l4_mr(0) == 42 && l4_label() == 0x5e,
               "got its message (sender %lx, MR0 %lu, label %lx)", l4_sender(), l4_mr(0), l4_label());
        l4_thread_join(&snd);
        tap_ok(sent_r == 0, "its send returned 0 (%s)", sys_errname(sent_r));
    }
}

/* ---- receive from any, and from one while others wait -------------------- */

static void check_receive_any(void)
{
    enum { N = 4 };
    struct l4_thread s[N];
    int started = 0;
    for (int i = 0; i < N; i++)
        if (l4_thread_start(&s[i], 0, send_to_main, (void *)(100ul + i)) == 0)
            started++;
    if (!tap_ok(started == N, "start %d senders (%d)", N, started))
        return;
    int all_sending = 1;
    for (int i = 0; i < N; i++)
        all_sending &= l4_wait_state(s[i].tid, KM_TSTATE_SENDING, WAIT_YIELDS);
    tap_ok(all_sending, "all %d are blocked sending to the main thread", N);

    /* From one: the last started, though the others have waited longer. */
    long r = l4_receive(s[N - 1].tid);
    tap_ok(r == 0 && l4_sender() == s[N - 1].tid && l4_mr(0) == 100 + N - 1,
           "receive from one thread picks its message among %d waiting (%s, MR0 %lu)", N,
           sys_errname(r), l4_mr(0));
    /* From any: the rest, each exactly once. */
    int seen[N] = {0}, good = 1;
    for (int k = 0; k < N - 1; k++) {
        r = l4_receive_any();
        km_tid from = l4_sender();
        int i = 0;
        while (i < N - 1 && s[i].tid != from)
            i++;
        if (r != 0 || i == N - 1 || seen[i] || l4_mr(0) != 100ul + i) {
            tap_diag("receive from any %d: r=%s sender=%lx MR0=%lu", k, sys_errname(r), from, l4_mr(0));
            good = 0;
        } else
            seen[i] = 1;
    }
    tap_ok(good, "receive from any gets each of the other %d senders once, with its word", N - 1);
    EXPECT(l4_receive_any_nowait(), -KM_ETIMEOUT, "then nothing is pending");
    for (int i = 0; i < N; i++)
        l4_thread_join(&s[i]);
}

/* ---- reply-and-wait while callers are queued ----------------------------- */
/* The direct path of a reply-and-wait (kernel/ipc.c, ipc_short) may hand
 * the CPU to the caller only when the server's receive would block: with
 * callers queued it must take the next one at once (else the server waits
 * for good while they wait for it). */

#define RWQ 4
static volatile long rwq_r[RWQ];

static void call_main(void *arg)
{
    unsigned long i = (unsigned long)arg;
    l4_set_mr(0, 200 + i);
    long r = l4_call(me, l4_tag(0x77, 1, 0));
    rwq_r[i] = r < 0 ? r : l4_sender() == me && l4_mr(0) == 1200 + i ? 1 : -1000;
}

static void check_reply_wait_queued(void)
{
    struct l4_thread c[RWQ];
    int started = 0;
    for (unsigned long i = 0; i < RWQ; i++) {
        rwq_r[i] = 0;
        if (l4_thread_start(&c[i], 0, call_main, (void *)i) == 0)
            started++;
    }
    if (!tap_ok(started == RWQ, "start %d callers of the main thread (%d)", RWQ, started))
        return;
    int all_sending = 1;
    for (int i = 0; i < RWQ; i++)
        all_sending &= l4_wait_state(c[i].tid, KM_TSTATE_SENDING, WAIT_YIELDS);
    tap_ok(all_sending, "all %d are queued calling the main thread", RWQ);
    long r = l4_receive_any();
    int good = r == 0, k;
    for (k = 0; good && k < RWQ; k++) {
        km_tid from = l4_sender();
        l4_set_mr(0, l4_mr(0) + 1000);
        /* all but the last: reply and take the next caller, who is queued */
        r = k < RWQ - 1 ? l4_reply_and_wait(from, l4_tag(0, 1, 0)) : l4_reply(from, l4_tag(0, 1, 0));
        good = r == 0 && (k == RWQ - 1 || KM_TAG_LABEL(utcb()->tag) == 0x77);
    }
    tap_ok(good, "reply-and-wait with callers queued takes the next one at once (%d of %d, %s)", k, RWQ,
           sys_errname(r));
    for (int i = 0; i < RWQ; i++)
        l4_thread_join(&c[i]);
    int each = 1;
    for (int i = 0; i < RWQ; i++)
        each &= rwq_r[i] == 1;
    tap_ok(each, "each caller got its own reply (%ld %ld %ld %ld)", rwq_r[0], rwq_r[1], rwq_r[2], rwq_r[3]);
}

/* ---- ids of deleted threads; deletion of a partner ----------------------- */

static struct l4_thread victim;
static volatile int killer_r;

static void kill_victim_when_main_waits(void *arg)
{
    (void)arg;
    killer_r = 1000;
    if (!l4_wait_state(me, KM_TSTATE_RECEIVING, WAIT_YIELDS))
        killer_r = 1001;
    else
        killer_r = (int)l4_thread_kill(&victim);
}

static void check_stale_ids(void)
{
    struct l4_thread t, killer;

    idle_stop = 0;
    if (!tap_ok(l4_thread_start(&t, 0, idle_thread, 0) == 0, "start a thread to delete"))
        return;
    km_tid old = t.tid;
    EXPECT(l4_thread_kill(&t), 0, "delete it");
    EXPECT(l4_send_nowait(old, l4_tag(1, 0, 0)), -KM_ESRCH, "send to a deleted thread -> -KM_ESRCH");
    EXPECT(l4_send(old, l4_tag(1, 0, 0)), -KM_ESRCH, "blocking send to a deleted thread -> -KM_ESRCH");
    EXPECT(l4_receive(old), -KM_ESRCH, "receive from a deleted thread -> -KM_ESRCH");
    EXPECT(l4_call(old, l4_tag(1, 0, 0)), -KM_ESRCH, "call to a deleted thread -> -KM_ESRCH");
    EXPECT(sys_thread_delete(old), -KM_ESRCH, "delete a deleted thread -> -KM_ESRCH");
    EXPECT(sys_thread_control(old, KM_TCTL_SET_PRIORITY, 10), -KM_ESRCH,
           "thread_control on a deleted thread -> -KM_ESRCH");
    EXPECT(sys_exregs(old, KM_EXREGS_READ, 0, 0), -KM_ESRCH, "exregs on a deleted thread -> -KM_ESRCH");

    /* Slots are reused with a new version: the old id stays dead. */
    struct l4_thread again[4];
    int reused = 0, n = 0;
    for (int i = 0; i < 4; i++)
        if (l4_thread_start(&again[i], 0, idle_thread, 0) == 0) {
            n++;
            reused |= KM_ID_NUMBER(again[i].tid) == KM_ID_NUMBER(old);
        }
    if (reused)
        tap_ok(1, "a new thread reuses the slot (number %u) with version %u, the old had %u",
               KM_ID_NUMBER(old), KM_ID_VERSION(old) + 1, KM_ID_VERSION(old));
    else
        tap_diag("no new thread took slot %u; the version check below is still meaningful",
                 KM_ID_NUMBER(old));
    EXPECT(l4_send_nowait(old, l4_tag(1, 0, 0)), -KM_ESRCH,
           "the old id is still rejected once its slot may be reused");
    EXPECT(l4_send_nowait(KM_ID(KM_ID_NUMBER(me), KM_ID_VERSION(me) + 1), l4_tag(1, 0, 0)),
           -KM_ESRCH, "a live thread's number with a wrong version -> -KM_ESRCH");
    idle_stop = 1;
    for (int i = 0; i < 4 && n; i++)
        l4_thread_join(&again[i]);

    /* The partner we wait for is deleted meanwhile: -KM_ECANCELED. */
    idle_stop = 0;
    if (l4_thread_start(&victim, 0, idle_thread, 0) == 0 &&
        l4_thread_start(&killer, 0, kill_victim_when_main_waits, 0) == 0) {
        EXPECT(l4_receive(victim.tid), -KM_ECANCELED,
               "receive from a thread deleted while we wait -> -KM_ECANCELED");
        l4_thread_join(&killer);
        tap_ok(killer_r == 0, "the other thread deleted it (%d)", killer_r);
    } else
        tap_ok(0, "start a victim and a killer thread");
    idle_stop = 1;
}

/* ---- bad arguments -------------------------------------------------------- */

static void check_bad_args(void)
{
    EXPECT(l4_call(me, l4_tag(1, 0, 0)), -KM_EDEADLK, "call to oneself -> -KM_EDEADLK");
    EXPECT(l4_send(me, l4_tag(1, 0, 0)), -KM_EDEADLK, "blocking send to oneself -> -KM_EDEADLK");
    /* A live thread that is not receiving: a well-formed send would time out. */
    struct l4_thread busy;
    idle_stop = 0;
    if (tap_ok(l4_thread_start(&busy, 0, idle_thread, 0) == 0, "start a busy thread")) {
        EXPECT(l4_send_nowait(busy.tid, KM_TAG(1, 60, 6)), -KM_EINVAL,
               "tag with u + t = 66 > KM_MR_COUNT -> -KM_EINVAL");
        EXPECT(l4_send_nowait(busy.tid, KM_TAG(1, 0, 3)), -KM_EINVAL, "tag with odd t -> -KM_EINVAL");
        EXPECT(l4_send_nowait(busy.tid, KM_TAG(1, 127, 0)), -KM_EINVAL, "tag with u = 127 -> -KM_EINVAL");
        idle_stop = 1;
        l4_thread_join(&busy);
    }
    EXPECT(sys_ipc(KM_NILTHREAD, KM_ANYTHREAD, 0x80 | KM_IPC_RECV_NOWAIT, 0), -KM_EINVAL,
           "unknown IPC flag -> -KM_EINVAL");
    EXPECT(l4_send_nowait(KM_ID(0xffffff, 1), l4_tag(1, 0, 0)), -KM_ESRCH,
           "send to a thread number out of range -> -KM_ESRCH");
    EXPECT(l4_receive_nowait(KM_ID(0, 1)), -KM_ESRCH, "receive from number 0 -> -KM_ESRCH");
    /* A map item with a nil acceptor on the other side is an error. */
    struct l4_thread t;
    memset(&rx, 0, sizeof rx);
    if (l4_thread_start(&t, 0, receive_from_main, 0) == 0) {
        l4_wait_state(t.tid, KM_TSTATE_RECEIVING, WAIT_YIELDS);
        extern char __user_start[];
        l4_put_map_item(0, 0, KM_FPAGE((km_u64)__user_start, 12, KM_R));
        long r = l4_send(t.tid, l4_tag(3, 0, 2));
        tap_ok(r < 0 && r != -KM_ENOSYS,
               "a map item to a receiver whose acceptor is nil fails (%s)", sys_errname(r));
        if (r == 0)
            l4_thread_join(&t);
        else
            l4_thread_kill(&t);
    }
}

/* ---- across tasks --------------------------------------------------------- */

static struct l4_pager pg;
static struct l4_thread pager_thr;
static struct l4_task child;
static struct server child_srv;

static long child_echo_server(void *arg)
{
    echo_server(arg);
    return (long)child_srv.served;
}

static long child_sends_64_words(void *arg)
{
    (void)arg;
    struct km_utcb *u = utcb();
    for (unsigned k = 0; k < KM_MR_COUNT; k++)
        u->mr[k] = pattern(64, k);
    return l4_send(me, l4_tag(0x64, KM_MR_COUNT, 0));
}

static long child_my_task(void *arg)
{
    (void)arg;
    return (long)utcb()->task;
}

static int wait_done(struct l4_task *t, long *result)
{
    long r = l4_receive(t->main.tid);
    if (r != 0 || l4_label() != L4_LABEL_DONE) {
        tap_diag("waiting for the child's DONE: %s, label %lx", sys_errname(r), l4_label());
        return 0;
    }
    *result = (long)l4_mr(0);
    return 1;
}

static void check_inter_task(void)
{
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    long res;

    a.pager = pager_thr.tid;

    long r = l4_task_start(&child, &a, me, child_my_task, 0);
    if (!tap_ok(r == 0, "start a function in a new task (%s)", sys_errname(r)))
        return;
    if (wait_done(&child, &res)) {
        tap_ok(res != 0 && (km_u64)res != utcb()->task,
               "it runs in a task of its own (%lx, ours %lx)", res, utcb()->task);
        tap_ok(pg.faults > 0, "its page faults were served by our pager (%lu)", pg.faults);
    }
    EXPECT(l4_task_delete(&child), 0, "delete the task");
    EXPECT(l4_send_nowait(child.main.tid, l4_tag(1, 0, 0)), -KM_ESRCH,
           "its thread's id is dead with it");

    memset(&child_srv, 0, sizeof child_srv);
    r = l4_task_start(&child, &a, me, child_echo_server, &child_srv);
    if (tap_ok(r == 0, "start an echo server in another task")) {
        unsigned long good = call_echo(child.main.tid, 200, 5000);
        tap_ok(good == 200, "200 calls to a thread of another task, all replies right (%lu)", good);
        r = l4_call(child.main.tid, l4_tag(LABEL_QUIT, 0, 0));
        res = -1;
        int done = r == 0 && wait_done(&child, &res);
        tap_ok(done && res == 200, "the server task counted 200 requests (%ld)", res);
        l4_task_delete(&child);
    }

    r = l4_task_start(&child, &a, me, child_sends_64_words, 0);
    if (tap_ok(r == 0, "start a sender in another task")) {
        r = l4_receive(child.main.tid);
        struct km_utcb *u = utcb();
        int same = r == 0 && KM_TAG_U(u->tag) == KM_MR_COUNT && u->sender == child.main.tid;
        for (unsigned k = 0; same && k < KM_MR_COUNT; k++)
            same = u->mr[k] == pattern(64, k);
        tap_ok(same, "a message of all %d MRs arrives intact across tasks", KM_MR_COUNT);
        res = -1;
        int done = wait_done(&child, &res);
        tap_ok(done && res == 0, "the sender's send returned 0 (%ld)", res);
        l4_task_delete(&child);
    }
}

/* ---- across CPUs ---------------------------------------------------------- */

static void check_cross_cpu(void)
{
    if (si.ncpus < 2) {
        tap_diag("one CPU: no cross-CPU IPC checks");
        return;
    }
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = 1;
    memset(&srv, 0, sizeof srv);
    srv.cpu = -2;
    long r = l4_thread_start(&srv.t, &a, echo_server, &srv);
    if (!tap_ok(r == 0, "start an echo server on CPU 1 (%s)", sys_errname(r)))
        return;
    unsigned long good = call_echo(srv.t.tid, 200, 9000);
    tap_ok(srv.cpu == 1, "the server runs on CPU 1 (sysinfo says %ld)", srv.cpu);
    tap_ok(good == 200, "200 calls from CPU %u to CPU 1, all replies right (%lu)", si.cpu, good);
    tap_ok(stop_server(&srv), "the server on CPU 1 stops on request");

    /* A task on the last CPU. */
    struct l4_thread_attr ta = L4_THREAD_ATTR_INIT;
    ta.pager = pager_thr.tid;
    ta.cpu = si.ncpus - 1;
    memset(&child_srv, 0, sizeof child_srv);
    r = l4_task_start(&child, &ta, me, child_echo_server, &child_srv);
    if (tap_ok(r == 0, "start an echo server task on CPU %u", si.ncpus - 1)) {
        good = call_echo(child.main.tid, 100, 11000);
        tap_ok(good == 100, "100 calls to another task on CPU %u, all right (%lu)", si.ncpus - 1, good);
        tap_ok(child_srv.cpu == (long)si.ncpus - 1, "it runs there (%ld)", child_srv.cpu);
        long res;
        l4_call(child.main.tid, l4_tag(LABEL_QUIT, 0, 0));
        wait_done(&child, &res);
        l4_task_delete(&child);
    }
}

/* ---- many pairs on all CPUs ----------------------------------------------- */

#define PAIRS 8
#define PP_ROUNDS 300

struct pair {
    struct l4_thread client, server;
    volatile km_tid server_tid;
    volatile unsigned long good, bad, served;
    volatile long client_cpu, server_cpu;
};
static struct pair pairs[PAIRS];

static void pp_server(void *arg)
{
    struct pair *p = arg;
    struct km_sysinfo mine;
    memset(&mine, 0, sizeof mine);
    p->server_cpu = sys_sysinfo(&mine) == 0 ? (long)mine.cpu : -1;
    long r = l4_receive_any();
    while (r == 0) {
        struct km_utcb *u = utcb();
        km_tid client = u->sender;
        unsigned n = KM_TAG_U(u->tag);
        if (KM_TAG_LABEL(u->tag) == LABEL_QUIT) {
            l4_reply(client, l4_tag(LABEL_QUIT, 0, 0));
            return;
        }
        /* Reply: the words reversed and complemented, plus the pair's index. */
        km_u64 in[KM_MR_COUNT];
        for (unsigned k = 0; k < n; k++)
            in[k] = u->mr[k];
        for (unsigned k = 0; k < n; k++)
            u->mr[k] = ~in[n - 1 - k];
        u->mr[n] = (km_u64)(p - pairs);
        p->served++;
        r = l4_reply_and_wait(client, l4_tag(LABEL_ECHO, n + 1, 0));
    }
}

static void pp_client(void *arg)
{
    struct pair *p = arg;
    unsigned idx = (unsigned)(p - pairs);
    struct km_sysinfo mine;
    memset(&mine, 0, sizeof mine);
    p->client_cpu = sys_sysinfo(&mine) == 0 ? (long)mine.cpu : -1;
    for (unsigned i = 0; i < PP_ROUNDS; i++) {
        unsigned n = 1 + (i * 7 + idx) % 12;
        km_u64 m = (km_u64)idx << 32 | i;
        struct km_utcb *u = utcb();
        for (unsigned k = 0; k < n; k++)
            u->mr[k] = pattern(m, k);
        long r = l4_call(p->server_tid, l4_tag(0x200 + idx, n, 0));
        u = utcb();
        int ok = r == 0 && u->sender == p->server_tid && KM_TAG_U(u->tag) == n + 1 &&
                 KM_TAG_LABEL(u->tag) == LABEL_ECHO && u->mr[n] == idx;
        for (unsigned k = 0; ok && k < n; k++)
            ok = u->mr[k] == ~pattern(m, n - 1 - k);
        if (ok)
            p->good++;
        else
            p->bad++;
    }
    l4_call(p->server_tid, l4_tag(LABEL_QUIT, 0, 0));
}

static void check_many_pairs(void)
{
    int started = 0;
    memset(pairs, 0, sizeof pairs);
    for (int i = 0; i < PAIRS; i++) {
        struct pair *p = &pairs[i];
        struct l4_thread_attr sa = L4_THREAD_ATTR_INIT, ca = L4_THREAD_ATTR_INIT;
        p->client_cpu = p->server_cpu = -2;
        sa.cpu = (2 * i + 1) % si.ncpus;
        ca.cpu = (2 * i) % si.ncpus;
        if (l4_thread_start(&p->server, &sa, pp_server, p) != 0)
            break;
        p->server_tid = p->server.tid;
        if (l4_thread_start(&p->client, &ca, pp_client, p) != 0) {
            l4_thread_kill(&p->server);
            break;
        }
        started++;
    }
    if (!tap_ok(started == PAIRS, "start %d client/server pairs over %u CPUs (%d)", PAIRS,
                si.ncpus, started))
        return;
    unsigned long good = 0, bad = 0, served = 0;
    int placed = 1;
    for (int i = 0; i < PAIRS; i++) {
        struct pair *p = &pairs[i];
        l4_thread_join(&p->client);
        l4_thread_join(&p->server);
        good += p->good;
        bad += p->bad;
        served += p->served;
        placed &= p->client_cpu == (long)((2 * i) % si.ncpus) &&
                  p->server_cpu == (long)((2 * i + 1) % si.ncpus);
        if (p->bad)
            tap_diag("pair %d: %lu good, %lu bad", i, p->good, p->bad);
    }
    tap_ok(good == PAIRS * PP_ROUNDS && bad == 0,
           "%d pairs x %d round trips at once: every message word right (%lu good, %lu bad)",
           PAIRS, PP_ROUNDS, good, bad);
    tap_ok(served == PAIRS * PP_ROUNDS, "servers saw every request (%lu)", served);
    tap_ok(placed, "each thread ran on the CPU it was placed on");
}

int main(void)
{
    sys_trace_marker(MARK_ID, 0);
    me = sys_myself();
    long r = (long)me;
    tap_ok(r > 0, "sys_myself returns a thread id (%lx%s%s)", me, r < 0 ? ", " : "",
           r < 0 ? sys_errname(r) : "");
    if (r <= 0 || sys_sysinfo(&si) != 0)
        return tap_done("ipc_check");
    tap_diag("main thread %lx (number %u, version %u) task %lx on CPU %u of %u", me,
             KM_ID_NUMBER(me), KM_ID_VERSION(me), utcb()->task, si.cpu, si.ncpus);
    tap_ok(utcb()->self == (km_u64)utcb() && utcb()->tid == me,
           "the UTCB at %%fs:0 names itself and the thread");

    /* The pager of every task started here (check_inter_task, check_cross_cpu). */
    l4_pager_init(&pg, KM_ANYTHREAD, KM_RWX);
    if (!tap_ok(l4_pager_thread_start(&pager_thr, 0, &pg) == 0, "start a pager thread"))
        return tap_done("ipc_check");

    check_send_receive();
    check_call();
    check_call_registers();
    check_timeouts();
    check_receive_any();
    check_reply_wait_queued();
    check_stale_ids();
    check_bad_args();
    check_inter_task();
    check_cross_cpu();
    check_many_pairs();
    sys_trace_marker(MARK_ID, 1);
    return tap_done("ipc_check");
}
