"""Generates a large mixed-format log set for `faultline analyze` benchmarks.

Eight services, one file each, in equal shares of the requested size:

- a Java (Spring, log4j layout) shop service with stack traces and connection-pool figures,
- a Node API writing JSON lines (pino) with request and trace ids,
- a Go service writing logfmt,
- syslog from a bastion host (sshd, CRON, systemd, kernel),
- an nginx combined access log, with a few attack requests,
- a PostgreSQL log with slow statements, deadlocks and checkpoints,
- a Python (Django and Celery) app with tracebacks,
- a storage cluster in the HDFS style (block ids, data nodes).

Every line gets fresh values, and the values look like production ones: numbers, but also
request ids (`req-8f3a2c`), hex trace ids, pod names, user names, block ids, UUIDs and paths.
Each service logs from many classes, handlers or jobs, so the set holds several hundred
templates, as a real mixed log does.

    python3 bench/gen_mixed_logs.py OUT_DIR TOTAL_MB [--simple]

`--simple` writes the earlier, easier set instead (five services, 44 templates, plain numbers
only), kept so older figures can be reproduced.
"""
import json
import os
import random
import string
import sys
from datetime import datetime, timedelta, timezone

START = datetime(2026, 3, 14, 0, 0, 0, tzinfo=timezone.utc)
USERS = [f"user{n}" for n in range(5000)]
NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
         "mallory", "oscar", "peggy", "rupert", "sybil", "trent", "victor", "walter"]
HEX = "0123456789abcdef"
ALNUM = string.ascii_lowercase + string.digits


class Values:
    """Fresh production-looking values."""

    def __init__(self, rng):
        self.r = rng

    def hex(self, n):
        return "".join(self.r.choice(HEX) for _ in range(n))

    def alnum(self, n):
        return "".join(self.r.choice(ALNUM) for _ in range(n))

    def uuid(self):
        h = self.hex(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def ip(self, prefix="10.0"):
        return f"{prefix}.{self.r.randrange(256)}.{self.r.randrange(1, 255)}"

    def user(self):
        r = self.r.random()
        if r < 0.4:
            return self.r.choice(USERS)
        if r < 0.7:
            return f"{self.r.choice(NAMES)}.{self.r.choice(NAMES)}"
        return f"{self.r.choice(NAMES)}{self.r.randrange(100)}"

    def email(self):
        return f"{self.r.choice(NAMES)}.{self.r.randrange(1000)}@example.com"

    def pod(self, app):
        return f"{app}-{self.hex(9)}-{self.alnum(5)}"

    def ms(self, lo=1, hi=900):
        return self.r.randrange(lo, hi)


def expand(prefixes, templates):
    """Every prefix with every template: each class or handler logs its own messages."""
    return [(p, t) for p in prefixes for t in templates]


# --- Java ------------------------------------------------------------------------------------

JAVA_CLASSES = [f"com.shop.{m}.{c}" for m, cs in {
    "catalog": ["ProductController", "ProductService", "PriceRepository", "SearchIndexer"],
    "checkout": ["CheckoutController", "PaymentService", "PaymentRepository", "CartService"],
    "auth": ["LoginController", "TokenService", "SessionFilter"],
    "orders": ["OrderController", "OrderService", "ShipmentClient", "InvoiceJob"],
    "users": ["ProfileController", "AddressService"],
} .items() for c in cs]

JAVA_MESSAGES = [
    ("INFO", lambda v: f"GET /api/{v.r.choice(['products', 'orders', 'carts', 'users'])}/{v.r.randrange(10**5)} completed {v.r.choice([200, 200, 200, 304])} in {v.ms()}ms"),
    ("INFO", lambda v: f"Cache hit ratio {v.r.uniform(0.5, 1):.2f} for region {v.r.choice(['products', 'prices', 'sessions'])} (size={v.r.randrange(10**4)}, evictions={v.r.randrange(100)})"),
    ("DEBUG", lambda v: f"Loaded {v.r.randrange(1, 500)} rows for tenant {v.uuid()} in {v.ms()} ms"),
    ("INFO", lambda v: f"Order {v.r.randrange(10**7)} placed by {v.user()} total={v.r.randrange(5, 900)}.{v.r.randrange(100):02d} EUR"),
    ("WARN", lambda v: f"Login failed for {v.user()} from {v.ip('203.0')}: bad credentials"),
    ("WARN", lambda v: f"Slow call to {v.r.choice(['pricing', 'inventory', 'shipping'])}-service took {v.ms(1000, 9000)} ms (threshold 1000 ms)"),
    ("INFO", lambda v: f"HikariPool-1 - Pool stats (total={v.r.randrange(10, 20)}, active={v.r.randrange(10)}, idle={v.r.randrange(10)}, waiting={v.r.randrange(5)})"),
    ("INFO", lambda v: f"Published event OrderCreated key={v.uuid()} partition={v.r.randrange(12)} offset={v.r.randrange(10**8)}"),
    ("ERROR", lambda v: f"Request {v.hex(16)} failed: upstream responded 503 after {v.ms(100, 5000)}ms"),
]


def java(v, t, cls_msg):
    ts = t.strftime("%Y-%m-%d %H:%M:%S,") + f"{v.r.randrange(1000):03d}"
    th = f"http-nio-8080-exec-{v.r.randrange(1, 50)}"
    cls, (level, msg) = cls_msg
    if v.r.random() < 0.02:
        return (f"{ts} ERROR [{th}] {cls}: Payment failed for order {v.r.randrange(10**6)}\n"
                "org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection\n"
                f"\tat {cls}.save({cls.rsplit('.', 1)[1]}.java:{v.r.randrange(80, 90)})\n"
                "\tat com.shop.checkout.PaymentService.charge(PaymentService.java:142)\n"
                "Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30000ms\n"
                "\t... 42 more\n")
    if v.r.random() < 0.002:
        return f"{ts} WARN  [gc] jvm.Memory: Heap usage {v.r.randrange(60, 99)}% ({v.r.randrange(1000, 4000)}M of 4096M) after full GC pause {v.ms(50, 900)}ms\n"
    return f"{ts} {level:<5} [{th}] {cls}: {msg(v)}\n"


# --- Node (pino JSON) ------------------------------------------------------------------------

NODE_ROUTES = ["/v1/customers/{id}/invoices", "/v1/quotes/{id}", "/v1/subscriptions/{id}",
               "/v1/payments/{id}/refunds", "/v1/webhooks/{id}", "/v1/accounts/{id}/members",
               "/v1/reports/{id}", "/v1/plans"]


def node(v, t, _):
    ms = int(t.timestamp() * 1000)
    route = v.r.choice(NODE_ROUTES).replace("{id}", str(v.r.randrange(10**6)))
    r = v.r.random()
    base = {"time": ms, "pid": v.r.randrange(1, 90), "hostname": v.pod("api"), "reqId": f"req-{v.alnum(6)}",
            "traceId": v.hex(32)}
    if r < 0.04:
        base.update(level=50, msg="request errored", req={"method": "POST", "url": route}, res={"statusCode": 502},
                    responseTime=v.ms(5000, 5100),
                    err={"type": "FetchError", "message": f"upstream pricing-service responded 503 after {v.ms(5000, 5100)}ms",
                         "stack": "FetchError: upstream pricing-service responded 503\n    at Pricing.quote (/app/src/pricing.js:88:11)\n    at async QuoteHandler.create (/app/src/routes/quotes.js:41:5)"})
    elif r < 0.08:
        base.update(level=40, msg=f"rate limit exceeded for api key {v.hex(8)}", req={"method": "GET", "url": route},
                    res={"statusCode": 429}, responseTime=v.ms(1, 5))
    elif r < 0.12:
        base.update(level=30, msg=f"job {v.r.choice(['sync-invoices', 'send-digest', 'expire-trials', 'rotate-keys'])} finished in {v.ms(10, 9000)}ms",
                    processed=v.r.randrange(10**4))
    elif r < 0.15:
        base.update(level=40, msg=f"cache miss for {v.r.choice(['plan', 'customer', 'quote'])}:{v.r.randrange(10**6)}, fetching from origin")
    elif r < 0.17:
        base.update(level=30, msg=f"heap used {v.r.randrange(100, 900)} MB of {v.r.choice([1024, 2048])} MB, rss {v.r.randrange(200, 1200)} MB")
    else:
        base.update(level=30, msg="request completed", req={"method": v.r.choice(["GET", "GET", "PUT"]), "url": route},
                    res={"statusCode": v.r.choice([200, 200, 201, 204, 404])}, responseTime=v.ms(2, 300))
    return json.dumps(base) + "\n"


# --- Go (logfmt) -----------------------------------------------------------------------------

GO_COMPONENTS = ["scheduler", "reconciler", "grpc", "queue", "storage", "auth", "billing", "notifier"]
GO_MESSAGES = [
    ("info", lambda v: f'msg="reconciled {v.r.choice(["deployment", "service", "configmap"])}" name={v.pod("web")} generation={v.r.randrange(10**4)} duration={v.r.uniform(0.1, 90):.1f}ms'),
    ("info", lambda v: f'msg="message consumed" topic=orders.v{v.r.randrange(1, 3)} partition={v.r.randrange(32)} offset={v.r.randrange(10**9)} lag={v.r.randrange(500)}'),
    ("warn", lambda v: f'msg="retrying request" attempt={v.r.randrange(1, 5)} backoff={v.r.randrange(100, 3200)}ms err="dial tcp {v.ip()}:5432: connect: connection refused"'),
    ("error", lambda v: f'msg="rpc failed" method=/billing.v1.Invoices/Create code=DeadlineExceeded elapsed={v.r.uniform(1, 30):.2f}s peer={v.ip()}:{v.r.randrange(30000, 60000)}'),
    ("info", lambda v: f'msg="pool stats" open={v.r.randrange(5, 50)} in_use={v.r.randrange(50)} idle={v.r.randrange(20)} wait_count={v.r.randrange(1000)} wait_duration={v.r.randrange(10**4)}ms'),
    ("debug", lambda v: f'msg="cache lookup" key=user:{v.uuid()} hit={v.r.choice(["true", "false"])} size={v.r.randrange(10**5)}'),
]


def go(v, t, comp_msg):
    comp, (level, msg) = comp_msg
    ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.r.randrange(10**6):06d}Z"
    return f"time={ts} level={level} component={comp} trace_id={v.hex(16)} {msg(v)}\n"


# --- syslog ----------------------------------------------------------------------------------

def syslog(v, t, _):
    stamp = t.strftime("%b %d %H:%M:%S").replace(" 0", "  ", 1) if t.day < 10 else t.strftime("%b %d %H:%M:%S")
    r = v.r.random()
    pid = v.r.randrange(1000, 65000)
    if r < 0.25:
        return f"{stamp} bastion sshd[{pid}]: Failed password for invalid user {v.user()} from {v.ip('198.51')} port {v.r.randrange(1024, 65535)} ssh2\n"
    if r < 0.45:
        return f"{stamp} bastion sshd[{pid}]: Accepted publickey for deploy from {v.ip()} port {v.r.randrange(1024, 65535)} ssh2: RSA SHA256:{v.alnum(43)}\n"
    if r < 0.55:
        return f"{stamp} bastion sshd[{pid}]: pam_unix(sshd:session): session opened for user {v.user()}(uid={v.r.randrange(1000, 3000)}) by (uid=0)\n"
    if r < 0.65:
        return f"{stamp} bastion CRON[{pid}]: (root) CMD (/usr/local/bin/backup --incremental {v.r.randrange(10**6)})\n"
    if r < 0.75:
        return f"{stamp} bastion systemd[1]: Started Session {v.r.randrange(10**5)} of User {v.user()}.\n"
    if r < 0.8:
        return f"{stamp} bastion kernel: [{v.r.uniform(1, 10**6):.6f}] Out of memory: Killed process {pid} (java) total-vm:{v.r.randrange(10**6, 10**7)}kB, anon-rss:{v.r.randrange(10**5, 10**6)}kB\n"
    if r < 0.9:
        return f"{stamp} bastion systemd-logind[{pid}]: Removed session {v.r.randrange(10**5)}.\n"
    return f"{stamp} bastion sudo[{pid}]: {v.user()} : TTY=pts/{v.r.randrange(10)} ; PWD=/home/{v.r.choice(NAMES)} ; USER=root ; COMMAND=/usr/bin/systemctl restart {v.r.choice(['nginx', 'app', 'worker'])}\n"


# --- nginx -----------------------------------------------------------------------------------

AGENTS = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0", "curl/8.5.0",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X)", "python-requests/2.31.0"]
ATTACKS = ["/search?q=1%27%20OR%20%271%27=%271", "/../../etc/passwd", "/?q=<script>alert(1)</script>",
           "/wp-login.php", "/.env"]


def access(v, t, _):
    stamp = t.strftime("%d/%b/%Y:%H:%M:%S +0000")
    status = 200 if v.r.random() > 0.04 else v.r.choice([301, 404, 500, 502, 503])
    if v.r.random() < 0.003:
        path, status, agent = v.r.choice(ATTACKS), 404, "sqlmap/1.7"
    else:
        path = v.r.choice([f"/products/{v.r.randrange(10**5)}", f"/api/cart/{v.uuid()}", "/checkout", "/",
                           f"/static/js/app.{v.hex(8)}.js", f"/users/{v.user()}/orders?page={v.r.randrange(20)}",
                           f"/images/{v.hex(12)}.webp"])
        agent = v.r.choice(AGENTS)
    return (f'{v.ip("203.0")} - - [{stamp}] "{v.r.choice(["GET", "GET", "GET", "POST"])} {path} HTTP/1.1" '
            f'{status} {v.r.randrange(100, 50000)} "-" "{agent}" {v.r.uniform(0.001, 0.9):.3f}\n')


# --- PostgreSQL ------------------------------------------------------------------------------

TABLES = ["orders", "customers", "invoices", "payments", "sessions", "products", "carts", "events"]


def postgres(v, t, _):
    ts = t.strftime("%Y-%m-%d %H:%M:%S.") + f"{v.r.randrange(1000):03d} UTC"
    pid = v.r.randrange(20000, 30000)
    r = v.r.random()
    table = v.r.choice(TABLES)
    if r < 0.35:
        return f"{ts} [{pid}] LOG:  duration: {v.r.uniform(1, 9000):.3f} ms  statement: SELECT * FROM {table} WHERE customer_id = {v.r.randrange(10**6)} AND created_at > '2026-03-{v.r.randrange(1, 28):02d}'\n"
    if r < 0.45:
        return f"{ts} [{pid}] LOG:  duration: {v.r.uniform(1, 900):.3f} ms  statement: UPDATE {table} SET status = 'paid' WHERE id = {v.r.randrange(10**7)}\n"
    if r < 0.5:
        return f"{ts} [{pid}] ERROR:  deadlock detected\n{ts} [{pid}] DETAIL:  Process {pid} waits for ShareLock on transaction {v.r.randrange(10**7)}; blocked by process {v.r.randrange(20000, 30000)}.\n"
    if r < 0.6:
        return f"{ts} [{pid}] LOG:  connection authorized: user={v.r.choice(['app', 'report', 'migrator'])} database=shop application_name={v.pod('api')}\n"
    if r < 0.7:
        return f"{ts} [{pid}] LOG:  automatic vacuum of table \"shop.public.{table}\": index scans: {v.r.randrange(3)}, pages: {v.r.randrange(10**4)} removed, {v.r.randrange(10**5)} remain\n"
    if r < 0.75:
        return f"{ts} [{pid}] FATAL:  remaining connection slots are reserved for non-replication superuser connections\n"
    return f"{ts} [{pid}] LOG:  checkpoint complete: wrote {v.r.randrange(1000)} buffers ({v.r.uniform(0, 9):.1f}%); 0 WAL file(s) added, 0 removed, {v.r.randrange(4)} recycled\n"


# --- Python ----------------------------------------------------------------------------------

PY_LOGGERS = ["django.request", "app.views.billing", "app.views.accounts", "app.tasks.email",
              "app.tasks.reports", "celery.worker", "app.integrations.stripe", "app.cache"]
PY_MESSAGES = [
    ("INFO", lambda v: f"Task app.tasks.{v.r.choice(['send_receipt', 'build_report', 'sync_crm'])}[{v.uuid()}] succeeded in {v.r.uniform(0.01, 30):.3f}s"),
    ("WARNING", lambda v: f"Retrying charge for customer cus_{v.alnum(14)} in {v.r.randrange(1, 60)}s"),
    ("INFO", lambda v: f"User {v.email()} signed in from {v.ip('192.0')}"),
    ("ERROR", lambda v: f"Internal Server Error: /billing/invoices/{v.r.randrange(10**5)}/pdf"),
    ("INFO", lambda v: f"cache set key=report:{v.hex(12)} ttl={v.r.randrange(60, 3600)} bytes={v.r.randrange(10**6)}"),
]


def python(v, t, logger_msg):
    ts = t.strftime("%Y-%m-%d %H:%M:%S,") + f"{v.r.randrange(1000):03d}"
    logger, (level, msg) = logger_msg
    if v.r.random() < 0.015:
        return (f"{ts} ERROR {logger}: Unhandled exception in request {v.hex(8)}\n"
                "Traceback (most recent call last):\n"
                '  File "/app/app/views/billing.py", line 88, in invoice_pdf\n'
                "    pdf = render(invoice)\n"
                '  File "/app/app/render.py", line 12, in render\n'
                "    return engine.render(doc, timeout=30)\n"
                f"TimeoutError: renderer did not answer within 30s (job {v.uuid()})\n")
    return f"{ts} {level} {logger}: {msg(v)}\n"


# --- storage cluster (HDFS style) --------------------------------------------------------------

def hdfs(v, t, _):
    ts = t.strftime("%y%m%d %H%M%S")
    blk = f"blk_{'-' if v.r.random() < 0.5 else ''}{v.r.randrange(10**18)}"
    r = v.r.random()
    if r < 0.3:
        return f"{ts} {v.r.randrange(1, 300)} INFO dfs.DataNode$PacketResponder: PacketResponder {v.r.randrange(3)} for block {blk} terminating\n"
    if r < 0.55:
        return f"{ts} {v.r.randrange(1, 300)} INFO dfs.DataNode$DataXceiver: Receiving block {blk} src: /{v.ip()}:{v.r.randrange(30000, 60000)} dest: /{v.ip()}:50010\n"
    if r < 0.75:
        return f"{ts} {v.r.randrange(1, 300)} INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: {v.ip()}:50010 is added to {blk} size {v.r.randrange(10**8)}\n"
    if r < 0.8:
        return f"{ts} {v.r.randrange(1, 300)} WARN dfs.DataNode$DataXceiver: {v.ip()}:50010:Got exception while serving {blk} to /{v.ip()}:\n"
    return f"{ts} {v.r.randrange(1, 300)} INFO dfs.FSNamesystem: BLOCK* NameSystem.allocateBlock: /user/root/rand/_temporary/_task_{v.r.randrange(10**12)}_{v.r.randrange(10**4):04d}_m_{v.r.randrange(10**6):06d}_0/part-{v.r.randrange(10**5):05d}. {blk}\n"


KINDS = [
    ("java-service.log", java, expand(JAVA_CLASSES, JAVA_MESSAGES)),
    ("api.jsonl", node, [None]),
    ("worker.logfmt", go, expand(GO_COMPONENTS, GO_MESSAGES)),
    ("auth.syslog", syslog, [None]),
    ("nginx-access.log", access, [None]),
    ("postgresql.log", postgres, [None]),
    ("python-app.log", python, expand(PY_LOGGERS, PY_MESSAGES)),
    ("storage.log", hdfs, [None]),
]


def write(out_dir, total_mb, kinds):
    os.makedirs(out_dir, exist_ok=True)
    per_file = int(total_mb * 1024 * 1024 / len(kinds))
    for name, make, choices in kinds:
        rng = random.Random(name)
        values = Values(rng)
        t = START
        written = 0
        with open(os.path.join(out_dir, name), "w") as f:
            chunk = []
            while written < per_file:
                t += timedelta(milliseconds=rng.randrange(1, 40))
                line = make(values, t, rng.choice(choices))
                chunk.append(line)
                written += len(line)
                if len(chunk) >= 10000:
                    f.write("".join(chunk))
                    chunk.clear()
            f.write("".join(chunk))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    out_dir, total_mb = args[0], float(args[1])
    if "--simple" in sys.argv:
        import gen_simple_logs
        gen_simple_logs.main(out_dir, total_mb)
    else:
        write(out_dir, total_mb, KINDS)


if __name__ == "__main__":
    main()
