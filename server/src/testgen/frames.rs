//! Stack frames read back from a sample's stack trace: which module, class and function of the
//! application failed, so a unit test can import and call it. Java, .NET, Node.js, Python, Ruby,
//! PHP and Go traces are understood; runtime and library frames are dropped.

/// A frame of application code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Module path as the stack names it: a Java package (`com.shop.checkout`), a source file
    /// (`src/pricing/client.js`, `worker/tasks.py`) or a Go package.
    pub module: String,
    /// Class or receiver type, when the frame names one.
    pub owner: Option<String>,
    /// Function or method.
    pub function: String,
}

impl Frame {
    /// `Owner.function` or `function`.
    pub fn qualified(&self) -> String {
        match &self.owner {
            Some(owner) => format!("{owner}.{}", self.function),
            None => self.function.clone(),
        }
    }
}

/// Prefixes and fragments of runtime and library frames.
const LIBRARY: [&str; 30] = [
    "java.",
    "javax.",
    "jdk.",
    "sun.",
    "kotlin.",
    "scala.",
    "org.springframework.",
    "org.hibernate.",
    "org.apache.",
    "com.zaxxer.",
    "io.netty.",
    "node:",
    "internal/",
    "node_modules",
    "/usr/lib/",
    "site-packages",
    "dist-packages",
    "<frozen",
    "runtime.",
    "runtime/",
    "std::",
    "core::",
    "tokio::",
    "System.",
    "Microsoft.",
    "reflect.",
    "/gems/",
    "/vendor/",
    "net/http.",
    "testing.",
];

/// The exception class and message a stack trace ends in: the innermost `Caused by:` for Java,
/// the last line for Python, the first line otherwise.
pub fn root_cause(stack: &str) -> Option<(String, String)> {
    let lines: Vec<&str> = stack.lines().map(str::trim).collect();
    let caused = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("Caused by: "));
    let python = lines.first().is_some_and(|l| l.starts_with("Traceback"));
    let line = caused
        .or_else(|| python.then(|| lines.last().copied()).flatten())
        .or_else(|| lines.first().copied())?;
    let (class, message) = line.split_once(": ").unwrap_or((line, ""));
    let class = class.trim();
    let plausible = !class.is_empty()
        && !class.contains(' ')
        && class
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '$' | ':' | '\\'));
    plausible.then(|| (class.to_owned(), message.trim().to_owned()))
}

/// Application frames of `stack`, innermost (where it failed) first.
pub fn app_frames(stack: &str) -> Vec<Frame> {
    let lines: Vec<&str> = stack.lines().collect();
    let python = lines
        .first()
        .is_some_and(|l| l.trim() == "Traceback (most recent call last):");
    let mut frames = Vec::new();
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        if LIBRARY.iter().any(|l| line.contains(l)) {
            continue;
        }
        let frame = java_or_dotnet(line)
            .or_else(|| node(line))
            .or_else(|| python_frame(line))
            .or_else(|| ruby(line))
            .or_else(|| php(line))
            .or_else(|| go(line, lines.get(i + 1).copied()));
        if let Some(frame) = frame
            && !frames.contains(&frame)
        {
            frames.push(frame);
        }
    }
    // Python lists the outermost call first.
    if python {
        frames.reverse();
    }
    frames
}

fn identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// `at com.shop.Pay.charge(Pay.java:12)` or `at Shop.Orders.Service.Place(Int32 id) in x.cs:line 3`.
fn java_or_dotnet(line: &str) -> Option<Frame> {
    let rest = line.strip_prefix("at ")?;
    let (qualified, _) = rest.split_once('(')?;
    if qualified.contains(' ') || qualified.contains('/') {
        return None;
    }
    let mut parts: Vec<&str> = qualified.split('.').collect();
    let function = parts.pop()?.trim_start_matches('<').trim_end_matches('>');
    let owner = parts.pop()?;
    let owner = owner.split('$').next().unwrap_or(owner);
    if !identifier(function) || !identifier(owner) {
        return None;
    }
    Some(Frame {
        module: parts.join("."),
        owner: Some(owner.to_owned()),
        function: function.to_owned(),
    })
}

/// `at PricingClient.quote (/srv/app/src/pricing/client.js:48:13)`, `at async fn (file:1:2)`.
fn node(line: &str) -> Option<Frame> {
    let rest = line.strip_prefix("at ")?;
    let rest = rest.strip_prefix("async ").unwrap_or(rest);
    let (name, location) = rest.split_once(" (")?;
    let file = location.trim_end_matches(')');
    let file = file.rsplitn(3, ':').last()?;
    if !(file.ends_with(".js") || file.ends_with(".ts") || file.ends_with(".mjs")) {
        return None;
    }
    let name = name.strip_prefix("new ").unwrap_or(name);
    let (owner, function) = match name.rsplit_once('.') {
        Some((owner, function)) => (Some(owner.to_owned()), function),
        None => (None, name),
    };
    identifier(function).then(|| Frame {
        module: source_path(file),
        owner,
        function: function.to_owned(),
    })
}

/// `File "/app/worker/tasks.py", line 88, in send_invoice`.
fn python_frame(line: &str) -> Option<Frame> {
    let rest = line.strip_prefix("File \"")?;
    let (file, rest) = rest.split_once('"')?;
    let function = rest.rsplit_once(" in ")?.1.trim();
    identifier(function).then(|| Frame {
        module: source_path(file),
        owner: None,
        function: function.to_owned(),
    })
}

/// `app/models/order.rb:42:in 'charge'` (or with a backquote, or `Order#charge`).
fn ruby(line: &str) -> Option<Frame> {
    let line = line.strip_prefix("from ").unwrap_or(line);
    let (file, rest) = line.split_once(".rb:")?;
    let name = rest.split_once(":in ")?.1;
    let name = name.trim_matches(|c| matches!(c, '\'' | '`' | '"'));
    let name = name.rsplit(' ').next().unwrap_or(name);
    let (owner, function) = match name.split_once(['#', '.']) {
        Some((owner, function)) => (Some(owner.to_owned()), function),
        None => (None, name),
    };
    let function = function.trim_end_matches(['?', '!']);
    identifier(function).then(|| Frame {
        module: source_path(&format!("{file}.rb")),
        owner,
        function: function.to_owned(),
    })
}

/// `#0 /var/www/src/Orders/OrderService.php(42): App\Orders\OrderService->place()`.
fn php(line: &str) -> Option<Frame> {
    let rest = line.strip_prefix('#')?;
    let (_, rest) = rest.split_once(' ')?;
    let (file, call) = rest.split_once("): ")?;
    let file = file.split_once(".php(")?.0;
    let call = call.split_once('(')?.0;
    let (owner, function) = match call.split_once("->").or_else(|| call.split_once("::")) {
        Some((owner, function)) => (Some(owner.rsplit('\\').next()?.to_owned()), function),
        None => (None, call),
    };
    identifier(function).then(|| Frame {
        module: source_path(&format!("{file}.php")),
        owner,
        function: function.to_owned(),
    })
}

/// `shop/orders.(*Service).Place(...)` followed by a tab-indented `/app/orders/service.go:55`.
fn go(line: &str, next: Option<&str>) -> Option<Frame> {
    let next = next?.trim();
    if !next.contains(".go:") {
        return None;
    }
    let call = line.rsplit_once('(').map_or(line, |(call, _)| call);
    let (package, name) = call.rsplit_once('/').map_or(("", call), |(p, n)| (p, n));
    let mut parts = name.split('.');
    let package = format!(
        "{package}{}{}",
        if package.is_empty() { "" } else { "/" },
        parts.next()?
    );
    let rest: Vec<&str> = parts.collect();
    let (owner, function) = match rest.as_slice() {
        [function] => (None, *function),
        [owner, function] => (
            Some(
                owner
                    .trim_matches(|c| matches!(c, '(' | ')' | '*'))
                    .to_owned(),
            ),
            *function,
        ),
        _ => return None,
    };
    identifier(function).then(|| Frame {
        module: package,
        owner,
        function: function.to_owned(),
    })
}

/// A source path relative to the project: deployment roots (`/app/`, `/srv/app/`, `/var/www/`,
/// `/usr/src/app/`, `/home/<user>/<project>/`) are cut off.
fn source_path(file: &str) -> String {
    let file = file.strip_prefix("file://").unwrap_or(file);
    for root in [
        "/srv/app/",
        "/usr/src/app/",
        "/var/www/html/",
        "/var/www/",
        "/app/",
        "/opt/app/",
        "/code/",
        "/src/app/",
    ] {
        if let Some(rest) = file.strip_prefix(root) {
            return rest.to_owned();
        }
    }
    if let Some(rest) = file.strip_prefix("/home/") {
        let mut parts = rest.splitn(3, '/');
        if let (Some(_), Some(_), Some(rest)) = (parts.next(), parts.next(), parts.next()) {
            return rest.to_owned();
        }
    }
    file.trim_start_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(module: &str, owner: Option<&str>, function: &str) -> Frame {
        Frame {
            module: module.into(),
            owner: owner.map(Into::into),
            function: function.into(),
        }
    }

    #[test]
    fn java_frames_skip_libraries_and_find_the_innermost_cause() {
        let stack = "org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection\n\tat org.springframework.orm.jpa.vendor.HibernateJpaDialect.convert(HibernateJpaDialect.java:267)\n\tat com.shop.checkout.PaymentRepository.save(PaymentRepository.java:88)\n\tat com.shop.checkout.PaymentService.charge(PaymentService.java:142)\nCaused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30000ms.\n\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)";
        assert_eq!(
            app_frames(stack),
            [
                frame("com.shop.checkout", Some("PaymentRepository"), "save"),
                frame("com.shop.checkout", Some("PaymentService"), "charge"),
            ]
        );
        let (class, message) = root_cause(stack).expect("a cause");
        assert_eq!(class, "java.sql.SQLTransientConnectionException");
        assert!(message.starts_with("HikariPool-1"));
    }

    #[test]
    fn python_tracebacks_are_read_innermost_first() {
        let stack = "Traceback (most recent call last):\n  File \"/app/worker/tasks.py\", line 88, in send_invoice\n    pdf = render_invoice(invoice_id)\n  File \"/usr/lib/python3.11/site-packages/x.py\", line 3, in y\n  File \"/app/worker/render.py\", line 41, in render_invoice\n    total = sum(x)\nTypeError: unsupported operand type(s) for +: 'int' and 'NoneType'";
        assert_eq!(
            app_frames(stack),
            [
                frame("worker/render.py", None, "render_invoice"),
                frame("worker/tasks.py", None, "send_invoice"),
            ]
        );
        assert_eq!(root_cause(stack).map(|c| c.0), Some("TypeError".to_owned()));
    }

    #[test]
    fn node_frames_keep_the_file_and_drop_async() {
        let stack = "UpstreamError: upstream pricing-service responded 503 Service Unavailable\n    at PricingClient.quote (/srv/app/src/pricing/client.js:48:13)\n    at async QuoteController.create (/srv/app/src/quotes/controller.js:22:19)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)";
        assert_eq!(
            app_frames(stack),
            [
                frame("src/pricing/client.js", Some("PricingClient"), "quote"),
                frame(
                    "src/quotes/controller.js",
                    Some("QuoteController"),
                    "create"
                ),
            ]
        );
        assert_eq!(
            root_cause(stack),
            Some((
                "UpstreamError".to_owned(),
                "upstream pricing-service responded 503 Service Unavailable".to_owned()
            ))
        );
    }

    #[test]
    fn dotnet_ruby_php_and_go_frames() {
        assert_eq!(
            app_frames(
                "   at Shop.Orders.OrderService.Place(Int32 id) in /src/OrderService.cs:line 42"
            ),
            [frame("Shop.Orders", Some("OrderService"), "Place")]
        );
        assert_eq!(
            app_frames(
                "/app/app/models/order.rb:42:in `charge'\n/usr/lib/ruby/gems/3.1.0/gems/x.rb:1:in `y'"
            ),
            [frame("app/models/order.rb", None, "charge")]
        );
        assert_eq!(
            app_frames(
                "#0 /var/www/src/Orders/OrderService.php(42): App\\Orders\\OrderService->place()"
            ),
            [frame(
                "src/Orders/OrderService.php",
                Some("OrderService"),
                "place"
            )]
        );
        assert_eq!(
            app_frames(
                "goroutine 1 [running]:\nshop/orders.(*Service).Place(0x1)\n\t/app/orders/service.go:55 +0x1d"
            ),
            [frame("shop/orders", Some("Service"), "Place")]
        );
    }

    #[test]
    fn text_that_is_not_a_trace_gives_nothing() {
        assert!(
            app_frames("DETAIL: Process 23053 waits for ShareLock on transaction 7841124")
                .is_empty()
        );
        assert_eq!(
            root_cause("Process 23053 waits for ShareLock: blocked"),
            None
        );
    }
}
