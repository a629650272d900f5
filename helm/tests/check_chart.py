#!/usr/bin/env python3
"""Checks the Helm chart offline, against the host's own sources.

For each environment's values file: lint, render, validate every manifest against the
Kubernetes schemas, and compare what the chart sets (probe paths, ports, environment
variables, hooks) with what the joule binary actually reads, and the metrics the Grafana
dashboard queries with those the host exports. Run by scripts/check-chart.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import tomllib
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "joule"
RELEASE = "joule"
KUBE_VERSION = "1.30.0"

# Each values file and the namespace it must deploy to.
ENVIRONMENTS = {
    "values-dev.yaml": "ev-platform-dev",
    "values-staging.yaml": "ev-platform-staging",
    "values-prod.yaml": "ev-platform-prod",
}

# Custom resources: kubernetes-validate has no schema for them, so they are skipped
# explicitly. Any other kind without a schema is an error.
CRD_KINDS = {
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"),
}

# Environment variables read by prefix rather than by a clap `env = "..."` attribute:
# manifest variables (host/runtime/src/capabilities/variables) and OpenTelemetry.
ENV_PREFIXES = ("JOULE_VARIABLE_", "OTEL_")

SECRET_ENV = {"DATABASE_URL", "REDIS_URL", "AMQP_URL", "JOULE_ADMIN_TOKEN"}
# Credentials a deployment may go without; when given, only from a Secret.
OPTIONAL_SECRET_ENV = {"SMTP_URL"}

failures: dict[str, None] = {}  # ordered, without repeats


def fail(context: str, message: str) -> None:
    failures[f"{context}: {message}"] = None


def read(path: str) -> str:
    return (REPO / path).read_text()


# ---- facts from the sources -------------------------------------------------------------


def rust_const(path: str, name: str) -> str:
    match = re.search(rf'pub const {name}: &str = "([^"]*)";', read(path))
    if not match:
        sys.exit(f"error: constant {name} not found in {path}")
    return match.group(1)


CLI_SOURCES = sorted((REPO / "host/cli/src").glob("*.rs"))


def clap_envs(struct: str) -> dict[str, str | None]:
    """The `env = "..."` names of a clap struct's #[arg(...)] fields, with their
    default_value, following #[command(flatten)] fields into the structs they name."""
    for source in CLI_SOURCES:
        body = re.search(rf"\bstruct {struct}\s*\{{(.*?)\n\}}", source.read_text(), flags=re.S)
        if body:
            break
    else:
        sys.exit(f"error: struct {struct} not found in host/cli/src")
    envs: dict[str, str | None] = {}
    for attribute in re.findall(r"#\[arg\((.*?)\)\]\s*\n", body.group(1), flags=re.S):
        env = re.search(r'\benv\s*=\s*"([A-Z0-9_]+)"', attribute)
        if env:
            default = re.search(r'\bdefault_value\s*=\s*"([^"]*)"', attribute)
            envs[env.group(1)] = default.group(1) if default else None
    for flattened in re.findall(r"#\[command\(flatten\)\]\s*(?:pub\s+)?\w+\s*:\s*(\w+)", body.group(1)):
        envs.update(clap_envs(flattened))
    return envs


def has_struct(struct: str) -> bool:
    return any(re.search(rf"\bstruct {struct}\b", f.read_text()) for f in CLI_SOURCES)


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def seconds(duration: str) -> int:
    """A humantime duration such as "30s" or "2m", as whole seconds."""
    match = re.fullmatch(r"(\d+)\s*(s|m|min)?", duration.strip())
    if not match:
        raise ValueError(f"unsupported duration {duration!r}")
    return int(match.group(1)) * (60 if match.group(2) in ("m", "min") else 1)


# `joule up` (host/cli/src/up.rs, with the structs it flattens in) and the global flags
# (host/cli/src/main.rs).
UP = clap_envs("UpArgs")
GLOBAL = clap_envs("Cli")
HOST_ENV = set(UP) | set(GLOBAL)
# What the migration Job may set: `joule migrate`'s own settings.
MIGRATE_ENV = (set(clap_envs("MigrateArgs")) if has_struct("MigrateArgs") else set(UP)) | set(GLOBAL)
if missing := {"JOULE_LISTEN", "JOULE_ADMIN_LISTEN", "JOULE_SHUTDOWN_GRACE"} - set(UP):
    sys.exit(f"error: `joule up` no longer reads {sorted(missing)} (host/cli/src); the chart checks need them")
LIVE_PATH = rust_const("triggers/http/src/lib.rs", "LIVE_PATH")
READY_PATH = rust_const("triggers/http/src/lib.rs", "READY_PATH")
HTTP_PORT = port_of(UP["JOULE_LISTEN"])
ADMIN_PORT = port_of(UP["JOULE_ADMIN_LISTEN"])
QUEUE_NAMESPACE = rust_const("host/runtime/src/backends.rs", "DEFAULT_QUEUE_NAMESPACE")
SPIN = tomllib.loads(read("spin.toml"))
SPIN_VARIABLES = set(SPIN.get("variables", {}))
AMQP_COMPONENTS = {t["component"] for t in SPIN.get("trigger", {}).get("amqp", [])}


# The series each metric type adds to its name in the OpenMetrics exposition.
METRIC_SUFFIXES = {"Counter": ("_total",), "Gauge": ("",), "Histogram": ("_bucket", "_sum", "_count")}


def metric_type(source: str, variable: str) -> str:
    """Counter, Gauge or Histogram: what `variable` in metrics.rs is declared as (a struct
    field or a `let`, its type or initializer), with the file's type aliases expanded."""
    declared = " ".join(re.findall(rf"\b{variable}\s*:\s*([^;=\n]+)", source)
                        + re.findall(rf"\blet\s+(?:mut\s+)?{variable}\s*=\s*([^;]+);", source))
    for alias, meaning in re.findall(r"\btype\s+(\w+)\s*=\s*([^;]+);", source):
        declared = re.sub(rf"\b{alias}\b", meaning, declared)
    types = set(re.findall(r"\b(Counter|Gauge|Histogram)\b", declared))
    if len(types) != 1:
        sys.exit(f"error: cannot tell the metric type of {variable} in host/runtime/src/metrics.rs (found {sorted(types)})")
    return types.pop()


def host_metrics(path: str = "host/runtime/src/metrics.rs") -> set[str]:
    """The series names on joule's /metrics: each `registry.register("name", help, metric)`
    under the registry's prefix, with the suffixes of the metric's type. Read from the
    source, so the dashboard is checked against what the host exports today."""
    source = read(path)
    prefix = re.search(r'Registry::with_prefix\("(\w+)"\)', source)
    if not prefix or "register_with_unit" in source:
        sys.exit(f"error: {path} no longer has one Registry::with_prefix and plain register calls; update host_metrics")
    registered = re.findall(r'\.register\(\s*"(\w+)"\s*,\s*"(?:[^"\\]|\\.)*"\s*,\s*([\w.]+?)(?:\.clone\(\))?\s*,?\s*\)', source)
    if not registered or len(registered) != source.count(".register("):
        sys.exit(f"error: cannot read every registry.register(\"name\", \"help\", metric) call in {path}; update host_metrics")
    return {f"{prefix.group(1)}_{name}{suffix}"
            for name, variable in registered
            for suffix in METRIC_SUFFIXES[metric_type(source, variable.rsplit(".", 1)[-1])]}


HOST_METRICS = host_metrics()


# ---- rendering --------------------------------------------------------------------------


def merged(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def lint(context: str, values: dict, namespace: str) -> None:
    report = helm.lint(CHART, values, strict=True, namespace=namespace, kube_version=f"v{KUBE_VERSION}")
    for error in report.get("errors") or []:
        fail(context, f"helm lint: {error}")
    for message in report.get("messages") or []:
        if message["severity"] >= 2:  # 2 = warning, 3 = error
            fail(context, f"helm lint: {message['path']}: {message['error']}")


def render(values: dict, namespace: str) -> list[dict]:
    rendered = helm.Chart.load(CHART).render(values, name=RELEASE, namespace=namespace)
    docs = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return docs


def validate(context: str, docs: list[dict]) -> list[str]:
    """Schema-checks every core kind; returns the custom resources skipped."""
    skipped = []
    for doc in docs:
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        if (doc.get("apiVersion"), doc.get("kind")) in CRD_KINDS:
            skipped.append(name)
            continue
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            fail(context, f"{name} ({doc.get('apiVersion')}): no Kubernetes {KUBE_VERSION} schema; "
                 "if it is a custom resource, add it to CRD_KINDS")
        except kubernetes_validate.ValidationError as e:
            path = "/".join(str(p) for p in e.path)
            fail(context, f"{name} is invalid at {path or '(top)'}: {e.message}")
    return skipped


def only(context: str, docs: list[dict], kind: str) -> dict | None:
    found = [d for d in docs if d["kind"] == kind]
    if len(found) != 1:
        fail(context, f"expected exactly one {kind}, found {len(found)}")
        return None
    return found[0]


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


# ---- assertions -------------------------------------------------------------------------


def check_env_names(context: str, container: dict, allowed: set[str]) -> None:
    for entry in container.get("env", []):
        name = entry["name"]
        if name not in allowed and not name.startswith(ENV_PREFIXES):
            fail(context, f"container {container['name']} sets {name}, which joule does not read")
        if name.startswith("JOULE_VARIABLE_"):
            variable = name.removeprefix("JOULE_VARIABLE_").lower()
            if variable not in SPIN_VARIABLES:
                fail(context, f"container {container['name']} sets {name}, but spin.toml has no variable {variable}")


def check_deployment(context: str, docs: list[dict], values: dict) -> None:
    deployment = only(context, docs, "Deployment")
    if not deployment:
        return
    pod = deployment["spec"]["template"]
    spec = pod["spec"]
    containers = {c["name"]: c for c in spec["containers"]}
    joule = containers.get("joule")
    if not joule:
        fail(context, "the Deployment has no container named joule")
        return

    ports = {p["name"]: p["containerPort"] for p in joule.get("ports", [])}
    if ports != {"http": HTTP_PORT, "admin": ADMIN_PORT}:
        fail(context, f"container ports {ports}, expected http {HTTP_PORT} and admin {ADMIN_PORT} (host/cli/src/up.rs)")

    for probe, path in (("livenessProbe", LIVE_PATH), ("readinessProbe", READY_PATH), ("startupProbe", LIVE_PATH)):
        get = joule.get(probe, {}).get("httpGet")
        if probe != "startupProbe" and not get:
            fail(context, f"{probe} missing or not an httpGet")
        elif get and (get.get("path"), get.get("port")) != (path, "http"):
            fail(context, f"{probe} is {get.get('path')} on {get.get('port')}, expected {path} on http")

    env = {e["name"]: e for e in joule.get("env", [])}
    check_env_names(context, joule, HOST_ENV)
    plain = {n: e.get("value") for n, e in env.items() if "value" in e}
    expected = {
        "JOULE_LISTEN": f"0.0.0.0:{HTTP_PORT}",
        "JOULE_ADMIN_LISTEN": f"0.0.0.0:{ADMIN_PORT}",
        "JOULE_LOG_FORMAT": "json",
        "JOULE_MANIFEST": values["manifest"]["path"],
    }
    for name, value in expected.items():
        if plain.get(name) != value:
            fail(context, f"{name} is {plain.get(name)!r}, expected {value!r}")
    identity = values.get("identity", {})
    if identity.get("issuer"):
        wanted = {"JOULE_OIDC_ISSUER": identity["issuer"], "JOULE_OIDC_AUDIENCE": identity.get("audience")}
        for name, value in wanted.items():
            if plain.get(name) != value:
                fail(context, f"{name} is {plain.get(name)!r}, expected {value!r} from identity")
    elif not identity.get("devIssuer"):
        fail(context, "rendered without identity.issuer or identity.devIssuer")
    from_secret = {n for n, e in env.items() if "secretKeyRef" in e.get("valueFrom", {})}
    if missing := SECRET_ENV - from_secret:
        fail(context, f"not taken from a Secret: {sorted(missing)}")
    if missing := OPTIONAL_SECRET_ENV - from_secret:
        fail(context, f"not offered from the Secret (optional): {sorted(missing)}")

    grace = seconds(plain.get("JOULE_SHUTDOWN_GRACE", UP["JOULE_SHUTDOWN_GRACE"] or "0s"))
    if spec.get("terminationGracePeriodSeconds", 30) <= grace:
        fail(context, f"terminationGracePeriodSeconds must exceed JOULE_SHUTDOWN_GRACE ({grace}s)")

    annotations = pod["metadata"].get("annotations", {})
    scrape = (annotations.get("prometheus.io/scrape"), annotations.get("prometheus.io/port"), annotations.get("prometheus.io/path"))
    if scrape != ("true", str(ADMIN_PORT), "/metrics"):
        fail(context, f"prometheus annotations {scrape}, expected scrape on {ADMIN_PORT} /metrics")

    security = {**spec.get("securityContext", {}), **joule.get("securityContext", {})}
    if not (security.get("runAsNonRoot") and security.get("readOnlyRootFilesystem")):
        fail(context, "joule must run as non-root with a read-only root filesystem")

    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["mountPath"]: m for m in joule.get("volumeMounts", [])}
    state = mounts.get(plain.get("JOULE_STATE_DIR"))
    if not state or "emptyDir" not in volumes.get(state["name"], {}):
        fail(context, "JOULE_STATE_DIR is not an emptyDir mount")
    manifest_mount = mounts.get(values["manifest"]["path"])
    if values["manifest"]["content"]:
        volume = volumes.get(manifest_mount["name"], {}) if manifest_mount else {}
        config_maps = {c["metadata"]["name"]: c for c in by_kind(docs, "ConfigMap")}
        config_map = config_maps.get(volume.get("configMap", {}).get("name"))
        if not config_map:
            fail(context, "the manifest ConfigMap is not mounted at JOULE_MANIFEST")
        elif config_map["data"].get(manifest_mount.get("subPath")) != values["manifest"]["content"]:
            fail(context, "the mounted ConfigMap does not hold manifest.content unchanged")
    elif manifest_mount:
        fail(context, "nothing should be mounted over the image's manifest")


def check_services(context: str, docs: list[dict], values: dict) -> None:
    targets = {p["targetPort"] for s in by_kind(docs, "Service") for p in s["spec"]["ports"]}
    if targets != {"http", "admin"}:
        fail(context, f"Services target {sorted(targets)}, expected http and admin")
    for ingress in by_kind(docs, "Ingress"):
        spec = ingress["spec"]
        if spec.get("ingressClassName") != "nginx":
            fail(context, "the Ingress class is not nginx")
        paths = [p for rule in spec["rules"] for p in rule["http"]["paths"]]
        ocpp_path = values["ingress"].get("ocppPath")
        expected = [("/api/v1", "http")] + ([(ocpp_path, "http")] if ocpp_path else [])
        if [(p["path"], p["backend"]["service"]["port"].get("name")) for p in paths] != expected:
            fail(context, f"Ingress paths {paths}, expected {expected}")
        # A WebSocket idle longer than NGINX's read timeout is cut: it must outlast the pings.
        annotations = ingress["metadata"].get("annotations", {})
        read_timeout = int(annotations.get("nginx.ingress.kubernetes.io/proxy-read-timeout", "60"))
        if ocpp_path and read_timeout <= 30:
            fail(context, f"proxy-read-timeout {read_timeout}s does not outlast the 30 s OCPP pings")


def check_migration(context: str, docs: list[dict], values: dict) -> None:
    job = only(context, docs, "Job")
    if not job:
        return
    hooks = set(job["metadata"].get("annotations", {}).get("helm.sh/hook", "").split(","))
    if hooks != {"pre-install", "pre-upgrade"}:
        fail(context, f"the migration Job's hooks are {sorted(hooks)}, expected pre-install and pre-upgrade")
    container = job["spec"]["template"]["spec"]["containers"][0]
    argv = container.get("command", []) + container.get("args", [])
    if argv != ["joule", "migrate", "-f", values["manifest"]["path"]]:
        fail(context, f"the migration Job runs {argv}")
    check_env_names(context, container, MIGRATE_ENV)
    labels = job["spec"]["template"]["metadata"].get("labels", {})
    for deployment in by_kind(docs, "Deployment"):
        selector = deployment["spec"]["selector"]["matchLabels"]
        if selector.items() <= labels.items():
            fail(context, "the migration pod matches the Deployment's selector (Services and the PDB would pick it up)")
    # What the Job needs must exist before it: chart-made Secret and ConfigMap are earlier hooks.
    # The dashboard's ConfigMap is for Grafana alone.
    dashboards = dashboard_config_maps(docs, values)
    for doc in by_kind(docs, "Secret") + [c for c in by_kind(docs, "ConfigMap") if c not in dashboards]:
        weight = int(doc["metadata"].get("annotations", {}).get("helm.sh/hook-weight", "1"))
        if weight >= 0:
            fail(context, f"{doc['kind']}/{doc['metadata']['name']} is not a hook created before the migration Job")


def check_scaling(context: str, docs: list[dict], values: dict) -> None:
    deployment = RELEASE  # fullname, as the release name contains the chart name
    hpas, scaled = by_kind(docs, "HorizontalPodAutoscaler"), by_kind(docs, "ScaledObject")
    if hpas and scaled:
        fail(context, "both an HPA and a KEDA ScaledObject scale the Deployment")
    autoscaled = values["autoscaling"]["enabled"] or values["keda"]["enabled"]
    if autoscaled != bool(hpas or scaled):
        fail(context, f"autoscaling is {'on' if autoscaled else 'off'}, but {len(hpas)} HPA and {len(scaled)} ScaledObject rendered")
    for doc in by_kind(docs, "Deployment"):
        if autoscaled == ("replicas" in doc["spec"]):
            fail(context, "the Deployment must set replicas exactly when nothing autoscales it")
    for hpa in hpas:
        if hpa["spec"]["scaleTargetRef"]["name"] != deployment:
            fail(context, "the HPA does not target the Deployment")
    for obj in scaled:
        if obj["spec"]["scaleTargetRef"]["name"] != deployment:
            fail(context, "the ScaledObject does not target the Deployment")
        namespace = values.get("config", {}).get("JOULE_QUEUE_NAMESPACE", QUEUE_NAMESPACE)
        queues = {t["metadata"]["queueName"] for t in obj["spec"]["triggers"] if t["type"] == "rabbitmq"}
        expected = {f"{namespace}.{SPIN['application']['name']}.{c}" for c in AMQP_COMPONENTS}
        if queues != expected:
            fail(context, f"KEDA watches queues {sorted(queues)}, but spin.toml's are {sorted(expected)}")


def dashboard_config_maps(docs: list[dict], values: dict) -> list[dict]:
    """The ConfigMaps Grafana's sidecar would load: those carrying dashboards.label."""
    label = values["dashboards"]["label"]
    return [c for c in by_kind(docs, "ConfigMap") if c["metadata"].get("labels", {}).get(label["key"]) == label["value"]]


def check_dashboard_config_map(context: str, docs: list[dict], values: dict) -> None:
    found = dashboard_config_maps(docs, values)
    label = values["dashboards"]["label"]
    expected = 1 if values["dashboards"]["enabled"] else 0
    if len(found) != expected:
        fail(context, f"expected {expected} ConfigMap labelled {label['key']}={label['value']!r}, found {len(found)}")
    elif found and found[0]["data"] != {DASHBOARD_FILE.name: DASHBOARD_TEXT}:
        fail(context, f"the dashboard ConfigMap does not hold exactly {DASHBOARD_FILE.relative_to(CHART)}, unchanged")


DEFAULTS = yaml.safe_load((CHART / "values.yaml").read_text())


def check_release(context: str, overrides: dict, namespace: str, expect_kinds: frozenset[str] = frozenset()) -> None:
    """Lints and renders with `overrides`, then judges the result with the merged values."""
    values = merged(DEFAULTS, overrides)
    try:
        docs = render(overrides, namespace)
    except helm.HelmError as e:
        fail(context, f"render failed: {e}")
        return
    # After rendering: lint treats a template's `fail` as a mere log line on stderr.
    lint(context, overrides, namespace)
    skipped = validate(context, docs)
    for doc in docs:
        if doc["metadata"].get("namespace") != namespace:
            fail(context, f"{doc['kind']}/{doc['metadata']['name']} is in namespace "
                 f"{doc['metadata'].get('namespace')!r}, expected {namespace}")
    if missing := expect_kinds - {d["kind"] for d in docs}:
        fail(context, f"did not render {sorted(missing)}")
    check_deployment(context, docs, values)
    check_services(context, docs, values)
    check_migration(context, docs, values)
    check_scaling(context, docs, values)
    check_dashboard_config_map(context, docs, values)
    note = f"; skipped custom resources {', '.join(skipped)}" if skipped else ""
    print(f"  {context}: linted, {len(docs)} manifests rendered and validated{note}")


# ---- the Grafana dashboard --------------------------------------------------------------

DASHBOARD_FILE = CHART / "dashboards" / "joule.json"
DASHBOARD_TEXT = DASHBOARD_FILE.read_text()
# Panels name the data source by this template variable, so the dashboard works in any
# Grafana whatever its Prometheus data source is called.
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}


def promql_metrics(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: the bare names left once strings,
    Grafana variables, label matchers, ranges, grouping clauses, functions and keywords
    are taken out."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', " ", expr)
    text = re.sub(r"\$\{[^}]*\}|\$\w+", " ", text)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    words = re.findall(r"(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?", text)
    return {word for word, call in words if not call and word.lower() not in PROMQL_KEYWORDS}


def panels(items: list[dict]) -> list[dict]:
    """Every panel, including those inside rows."""
    return [p for item in items for p in [item, *panels(item.get("panels", []))]]


def queries(dashboard: dict) -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target and every query variable."""
    found = [(f"panel {p.get('id')} {p.get('title')!r}", t["expr"])
             for p in panels(dashboard.get("panels", [])) for t in p.get("targets", []) if "expr" in t]
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            query = variable.get("query")
            query = query.get("query", "") if isinstance(query, dict) else query
            # label_values(metric, label): only the metric is PromQL.
            values = re.fullmatch(r"\s*label_values\((?:(.*),)?\s*\w+\s*\)\s*", query, flags=re.S)
            found.append((f"variable {variable['name']}", (values.group(1) or "") if values else query))
    return found


def check_dashboard() -> None:
    context = str(DASHBOARD_FILE.relative_to(REPO))
    try:
        dashboard = json.loads(DASHBOARD_TEXT)
    except json.JSONDecodeError as e:
        fail(context, f"not valid JSON: {e}")
        return
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    if (variables.get("datasource", {}).get("type"), variables.get("datasource", {}).get("query")) != ("datasource", "prometheus"):
        fail(context, "no template variable `datasource` of type datasource for Prometheus")
    ids = [p.get("id") for p in panels(dashboard.get("panels", []))]
    if len(ids) != len(set(ids)) or not all(isinstance(i, int) for i in ids):
        fail(context, f"panel ids must be unique integers, found {ids}")
    for panel in panels(dashboard.get("panels", [])):
        where = f"panel {panel.get('id')} {panel.get('title')!r}"
        grid = panel.get("gridPos", {})
        if not {"h", "w", "x", "y"} <= grid.keys() or grid["x"] + grid["w"] > 24:
            fail(context, f"{where} has no gridPos within the 24 columns: {grid}")
        if panel.get("type") != "row":
            sources = [panel.get("datasource")] + [t.get("datasource") for t in panel.get("targets", [])]
            if any(source != DATASOURCE for source in sources):
                fail(context, f"{where} does not query the data source {DATASOURCE}")
    checked = queries(dashboard)
    for where, expr in checked:
        names = promql_metrics(expr)
        if not names:
            fail(context, f"{where} selects no metric: {expr}")
        for name in sorted(names - HOST_METRICS):
            fail(context, f"{where} queries {name}, which host/runtime/src/metrics.rs does not export")
    print(f"  {context}: {len(ids)} panels, {len(checked)} queries checked against the metrics joule exports")


def main() -> int:
    print(f"checking {CHART.relative_to(REPO)} against Kubernetes {KUBE_VERSION} schemas")
    check_dashboard()
    for file, namespace in ENVIRONMENTS.items():
        overrides = yaml.safe_load((CHART / file).read_text())
        if overrides.get("namespace") != namespace:
            fail(file, f"namespace is {overrides.get('namespace')!r}, expected {namespace}")
        check_release(file, overrides, namespace)
        # The values file must refuse any other namespace.
        try:
            render(overrides, "default")
            fail(file, "rendered into namespace default; the namespace guard did not stop it")
        except helm.HelmError:
            pass

    # Everything optional switched on, over prod's values.
    overrides = merged(
        yaml.safe_load((CHART / "values-prod.yaml").read_text()),
        {"keda": {"enabled": True}, "rabbitmq": {"cluster": {"enabled": True}}, "manifest": {"content": read("spin.toml")}},
    )
    check_release("prod + KEDA, RabbitmqCluster, manifest ConfigMap", overrides, "ev-platform-prod",
                  frozenset({"ScaledObject", "RabbitmqCluster", "ConfigMap"}))

    # Without an issuer each pod would accept only the development tokens it signed itself.
    staging = yaml.safe_load((CHART / "values-staging.yaml").read_text())
    for missing in ({"issuer": ""}, {"issuer": "https://id.example.com/realms/ev", "audience": ""}):
        try:
            render(merged(staging, {"identity": missing}), "ev-platform-staging")
            fail(f"staging with identity {missing}", "rendered; the chart must require an issuer and its audience")
        except helm.HelmError:
            pass

    dev = yaml.safe_load((CHART / "values-dev.yaml").read_text())
    check_release("dev without the dashboard", merged(dev, {"dashboards": {"enabled": False}}), "ev-platform-dev")

    sys.stdout.flush()
    if failures:
        print(f"\n{len(failures)} chart check(s) failed:", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    print("chart checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
