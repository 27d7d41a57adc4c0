"""The first, easy benchmark log set (`bench/gen_mixed_logs.py OUT_DIR MB --simple`): a Java
service with stack traces, a JSON-lines API, syslog, an nginx access log and a PostgreSQL log, in
equal shares, 44 templates whose variables are plain numbers. Kept so the figures measured on it
can be reproduced; the default set is more like production logs.
"""
import json
import os
import random
from datetime import datetime, timedelta, timezone

START = datetime(2026, 3, 14, 0, 0, 0, tzinfo=timezone.utc)
USERS = [f"user{n}" for n in range(5000)]


def java(rng, t):
    ts = t.strftime("%Y-%m-%d %H:%M:%S,") + f"{rng.randrange(1000):03d}"
    r = rng.random()
    th = f"http-nio-8080-exec-{rng.randrange(1, 50)}"
    if r < 0.03:
        return (f"{ts} ERROR [{th}] com.shop.checkout.PaymentService: Payment failed for order {rng.randrange(10**6)}\n"
                "org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection\n"
                f"\tat com.shop.checkout.PaymentRepository.save(PaymentRepository.java:{rng.randrange(80, 90)})\n"
                "\tat com.shop.checkout.PaymentService.charge(PaymentService.java:142)\n"
                "Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available\n")
    if r < 0.10:
        return f"{ts} WARN  [{th}] com.shop.auth.LoginController: Login failed for {rng.choice(USERS)} from 203.0.{rng.randrange(256)}.{rng.randrange(256)}: bad credentials\n"
    if r < 0.70:
        return f"{ts} INFO  [{th}] com.shop.api.RequestLogger: GET /api/products/{rng.randrange(10**5)} completed 200 in {rng.randrange(2, 900)}ms\n"
    return f"{ts} INFO  [{th}] com.shop.checkout.CheckoutController: Order {rng.randrange(10**7)} placed by {rng.choice(USERS)} total={rng.randrange(5, 900)}.{rng.randrange(100):02d} EUR\n"


def jsonl(rng, t):
    ms = int(t.timestamp() * 1000)
    if rng.random() < 0.05:
        return json.dumps({"level": 50, "time": ms, "msg": "request errored", "req": {"method": "POST", "url": f"/v1/quotes/{rng.randrange(10**4)}"},
                           "res": {"statusCode": 502}, "responseTime": rng.randrange(5000, 5100),
                           "err": {"message": f"upstream pricing-service responded 503 after {rng.randrange(5000, 5100)}ms"}}) + "\n"
    return json.dumps({"level": 30, "time": ms, "msg": "request completed", "reqId": f"req-{rng.randrange(10**9)}",
                       "req": {"method": "GET", "url": f"/v1/customers/{rng.randrange(10**6)}/invoices"},
                       "res": {"statusCode": 200}, "responseTime": rng.randrange(2, 300)}) + "\n"


def syslog(rng, t):
    stamp = t.strftime("%b %d %H:%M:%S").replace(" 0", "  ", 1) if t.day < 10 else t.strftime("%b %d %H:%M:%S")
    r = rng.random()
    if r < 0.3:
        return f"{stamp} bastion sshd[{rng.randrange(1000, 65000)}]: Failed password for invalid user {rng.choice(USERS)} from 198.51.{rng.randrange(256)}.{rng.randrange(256)} port {rng.randrange(1024, 65535)} ssh2\n"
    if r < 0.6:
        return f"{stamp} bastion sshd[{rng.randrange(1000, 65000)}]: Accepted publickey for deploy from 10.0.{rng.randrange(256)}.{rng.randrange(256)} port {rng.randrange(1024, 65535)} ssh2\n"
    return f"{stamp} bastion CRON[{rng.randrange(1000, 65000)}]: (root) CMD (/usr/local/bin/backup --incremental {rng.randrange(10**6)})\n"


def access(rng, t):
    stamp = t.strftime("%d/%b/%Y:%H:%M:%S +0000")
    status = 200 if rng.random() > 0.03 else rng.choice([404, 500, 502])
    path = rng.choice([f"/products/{rng.randrange(10**5)}", f"/api/cart/{rng.randrange(10**6)}", "/checkout", "/"])
    return (f'203.0.{rng.randrange(256)}.{rng.randrange(256)} - - [{stamp}] "{rng.choice(["GET", "GET", "POST"])} {path} HTTP/1.1" '
            f'{status} {rng.randrange(100, 50000)} "-" "Mozilla/5.0 (X11; Linux x86_64)" {rng.uniform(0.001, 0.9):.3f}\n')


def postgres(rng, t):
    ts = t.strftime("%Y-%m-%d %H:%M:%S.") + f"{rng.randrange(1000):03d} UTC"
    pid = rng.randrange(20000, 30000)
    r = rng.random()
    if r < 0.4:
        return f"{ts} [{pid}] LOG:  duration: {rng.uniform(1, 9000):.3f} ms  statement: SELECT * FROM orders WHERE customer_id = {rng.randrange(10**6)}\n"
    if r < 0.45:
        return f"{ts} [{pid}] ERROR:  deadlock detected\n{ts} [{pid}] DETAIL:  Process {pid} waits for ShareLock on transaction {rng.randrange(10**7)}; blocked by process {rng.randrange(20000, 30000)}.\n"
    return f"{ts} [{pid}] LOG:  checkpoint complete: wrote {rng.randrange(1000)} buffers ({rng.uniform(0, 9):.1f}%); 0 WAL file(s) added, 0 removed, {rng.randrange(4)} recycled\n"


KINDS = [("java-service.log", java), ("api.jsonl", jsonl), ("auth.syslog", syslog), ("nginx-access.log", access), ("postgresql.log", postgres)]


def main(out_dir, total_mb):
    os.makedirs(out_dir, exist_ok=True)
    per_file = int(total_mb * 1024 * 1024 / len(KINDS))
    for name, make in KINDS:
        rng = random.Random(name)
        t = START
        written = 0
        with open(os.path.join(out_dir, name), "w") as f:
            chunk = []
            while written < per_file:
                t += timedelta(milliseconds=rng.randrange(1, 40))
                line = make(rng, t)
                chunk.append(line)
                written += len(line)
                if len(chunk) >= 10000:
                    f.write("".join(chunk))
                    chunk.clear()
            f.write("".join(chunk))
