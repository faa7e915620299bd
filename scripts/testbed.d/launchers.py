"""How each real server starts without systemd, inside the bed's service namespace.

Every launcher writes its configuration under the bed's run directory and returns a `Launch`: the argv, the user
to run as, environment, and paths that must be private to it (a tmpfs mounted in a private mount namespace, for
servers that insist on fixed global paths such as /tmp/.X11-unix or /run/xrdp). Nothing is written outside the run
directory except those private mounts, which vanish with the process.
"""

import os
import shutil
import subprocess
from dataclasses import dataclass, field

from catalogue import NET, svc_ip, mb_ip, venv_python

HERE = os.path.dirname(os.path.abspath(__file__))


@dataclass
class Launch:
    argv: list
    user: str = ""                                  # run as this user (runuser); "" = root
    env: dict = field(default_factory=dict)
    private: list = field(default_factory=list)     # directories to hide behind a private tmpfs: path or
    #                                                 (path, mode); the working directory is the run dir
    prep: list = field(default_factory=list)        # commands run (as root) before starting, in order


class Ctx:
    """Paths of one bed's run directory."""

    def __init__(self, run_dir, profile):
        self.run = run_dir
        self.profile = profile
        self.conf = os.path.join(run_dir, "conf")
        self.data = os.path.join(run_dir, "data")
        self.logs = os.path.join(run_dir, "logs")

    def path(self, *parts):
        return os.path.join(self.run, *parts)

    def write(self, rel, text, mode=0o644):
        p = os.path.join(self.conf, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def mkdir(self, rel, owner=None, mode=0o755):
        p = os.path.join(self.data, rel)
        os.makedirs(p, exist_ok=True)
        os.chmod(p, mode)
        if owner:
            shutil.chown(p, owner, None)
        return p


def template(name, **vals):
    """Fill scripts/testbed.d/templates/NAME: every {{KEY}} replaced by vals[KEY]."""
    with open(os.path.join(HERE, "templates", name)) as f:
        text = f.read()
    for k, v in vals.items():
        text = text.replace("{{" + k + "}}", str(v))
    return text


def make_cert(ctx, name, cn, sans):
    """A self-signed RSA certificate (kept in conf/) for nginx."""
    crt = os.path.join(ctx.conf, f"{name}.crt")
    key = os.path.join(ctx.conf, f"{name}.key")
    if not os.path.exists(crt):
        os.makedirs(ctx.conf, exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                        "-subj", f"/CN={cn}/O=lzr-testbed", "-addext", f"subjectAltName={sans}",
                        "-keyout", key, "-out", crt], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return crt, key


def nginx(ctx):
    crt, key = make_cert(ctx, "tls", "lzr-testbed.example", "DNS:lzr-testbed.example")
    kcrt, kkey = make_cert(ctx, "kube", "kubernetes",
                           "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:" + svc_ip(2))
    www = ctx.mkdir("www")
    with open(os.path.join(www, "index.html"), "w") as f:
        f.write("<html><head><title>lzr test bed</title></head><body><h1>lzr test bed</h1></body></html>\n")
    tmp = ctx.mkdir("nginx-tmp", owner="www-data")
    conf = ctx.write("nginx.conf", template("nginx.conf", RUN=ctx.run, TMP=tmp, WWW=www, A=svc_ip(1),
                                            K=svc_ip(2), SP=mb_ip(5), CRT=crt, KEY=key, KCRT=kcrt, KKEY=kkey,
                                            LOGS=ctx.logs))
    return Launch(["nginx", "-c", conf, "-e", os.path.join(ctx.logs, "nginx.err")])


def lighttpd(ctx):
    www = ctx.mkdir("www")
    conf = ctx.write("lighttpd.conf", template("lighttpd.conf", A=svc_ip(3), WWW=www, RUN=ctx.run,
                                               LOGS=ctx.logs))
    os.chmod(ctx.logs, 0o777)
    return Launch(["lighttpd", "-D", "-f", conf])


def openssh(ctx):
    key = os.path.join(ctx.conf, "ssh_host_ed25519_key")
    if not os.path.exists(key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    conf = ctx.write("sshd_config", template("sshd_config", A=svc_ip(4), KEY=key, RUN=ctx.run), 0o600)
    return Launch(["/usr/sbin/sshd", "-D", "-e", "-f", conf], prep=[["mkdir", "-p", "/run/sshd"]])


def vsftpd(ctx):
    empty = ctx.mkdir("vsftpd-empty", mode=0o555)
    conf = ctx.write("vsftpd.conf", template("vsftpd.conf", A=svc_ip(5), EMPTY=empty, LOGS=ctx.logs), 0o600)
    return Launch(["vsftpd", conf])


def opensmtpd(ctx):
    ctx.write("smtpd.conf", template("smtpd.conf", A=svc_ip(6)), 0o600)
    # smtpd keeps its queue and control socket (/run/smtpd.sock) at fixed paths: give it private ones. The
    # private /run hides the run directory, so the configuration is named relative to the working directory.
    return Launch(["smtpd", "-d", "-f", "conf/smtpd.conf"], private=[("/var/spool/smtpd", "0711"), "/run"])


def dovecot(ctx):
    base = ctx.mkdir("dovecot")
    state = ctx.mkdir("dovecot-state")
    conf = ctx.write("dovecot.conf", template("dovecot.conf", A=svc_ip(7), BASE=base, STATE=state,
                                              LOGS=ctx.logs))
    return Launch(["dovecot", "-F", "-c", conf])


def inetd(ctx):
    conf = ctx.write("inetd.conf", template("inetd.conf", T=svc_ip(8), ECHO=mb_ip(13), CHARGEN=mb_ip(14)))
    return Launch(["inetd", "-d", "-E", conf])


def mariadb(ctx):
    d = ctx.mkdir("mariadb", owner="mysql", mode=0o750)
    prep = []
    if not os.path.exists(os.path.join(d, "mysql")):
        prep.append(["mariadb-install-db", "--no-defaults", f"--datadir={d}", "--user=mysql",
                     "--skip-test-db", "--auth-root-authentication-method=normal"])
    return Launch(["mariadbd", "--no-defaults", f"--datadir={d}", f"--bind-address={svc_ip(9)}",
                   "--port=3306", f"--socket={d}/mysqld.sock", f"--pid-file={d}/mysqld.pid",
                   "--user=mysql", "--skip-grant-tables", "--skip-name-resolve",
                   "--innodb-buffer-pool-size=16M", "--key-buffer-size=1M", "--performance-schema=OFF",
                   "--skip-log-bin"], prep=prep)


def postgresql(ctx):
    d = ctx.mkdir("pg", owner="postgres", mode=0o700)
    bindir = sorted(p for p in os.listdir("/usr/lib/postgresql"))[-1]
    bindir = f"/usr/lib/postgresql/{bindir}/bin"
    prep = []
    if not os.path.exists(os.path.join(d, "PG_VERSION")):
        prep.append(["runuser", "-u", "postgres", "--", f"{bindir}/initdb", "-D", d, "-A", "trust", "-U",
                     "postgres", "--no-sync"])
    return Launch([f"{bindir}/postgres", "-D", d, "-c", f"listen_addresses={svc_ip(10)}", "-k", d, "-p", "5432",
                   "-c", "shared_buffers=16MB", "-c", "fsync=off"], user="postgres", prep=prep)


def redis(addr, port, tag):
    def launch(ctx):
        d = ctx.mkdir(f"redis-{tag}")
        return Launch(["redis-server", "--bind", addr, "--port", str(port), "--save", "", "--appendonly", "no",
                       "--protected-mode", "no", "--daemonize", "no", "--dir", d, "--logfile", ""])
    return launch


def memcached(ctx):
    return Launch(["memcached", "-l", svc_ip(13), "-p", "11211", "-U", "0", "-u", "nobody", "-m", "16"])


def mosquitto(ctx):
    conf = ctx.write("mosquitto.conf", template("mosquitto.conf", A=svc_ip(14), RUN=ctx.run))
    return Launch(["mosquitto", "-c", conf])


def rabbitmq(ctx):
    home = ctx.mkdir("rabbitmq", owner="rabbitmq", mode=0o750)
    env = {
        "HOME": home,
        "RABBITMQ_NODENAME": "lzrbed@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": svc_ip(15),
        "RABBITMQ_NODE_PORT": "5672",
        "RABBITMQ_DIST_PORT": "25672",
        "RABBITMQ_MNESIA_BASE": os.path.join(home, "mnesia"),
        "RABBITMQ_LOG_BASE": os.path.join(home, "log"),
        "RABBITMQ_PID_FILE": os.path.join(home, "rabbit.pid"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(home, "enabled_plugins"),
        "RABBITMQ_CONFIG_FILE": os.path.join(home, "rabbitmq"),
        "RABBITMQ_ADVANCED_CONFIG_FILE": os.path.join(home, "advanced.config"),
        "RABBITMQ_CONF_ENV_FILE": "/dev/null",
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "RABBITMQ_SERVER_ERL_ARGS": "+S 1:1 +A 4",
    }
    with open(os.path.join(home, "enabled_plugins"), "w") as f:
        f.write("[].\n")
    with open(os.path.join(home, "rabbitmq.conf"), "w") as f:
        f.write("log.console = true\nlog.file = false\n")
    shutil.chown(os.path.join(home, "enabled_plugins"), "rabbitmq", None)
    return Launch(["/usr/lib/rabbitmq/bin/rabbitmq-server"], user="rabbitmq", env=env)


def dnsmasq(ctx):
    return Launch(["dnsmasq", "-k", "--conf-file=/dev/null", f"--listen-address={svc_ip(16)}",
                   "--bind-interfaces", "--port=53", "--no-resolv", "--no-hosts",
                   "--address=/stackoverflow.com/198.19.255.1", "--user=nobody", "--group=nogroup",
                   f"--pid-file={ctx.path('data', 'dnsmasq.pid')}", "--log-facility=-"])


def unbound(ctx):
    conf = ctx.write("unbound.conf", template("unbound.conf", A=svc_ip(17), NET=NET, RUN=ctx.run))
    return Launch(["unbound", "-d", "-c", conf])


def xvnc(ctx):
    return Launch(["Xvnc", ":1", "-rfbport", "5900", "-interface", svc_ip(18), "-SecurityTypes", "None",
                   "-nolisten", "tcp", "-geometry", "640x480", "-depth", "16"], private=["/tmp"])


def xvfb(ctx):
    return Launch(["Xvfb", ":0", "-listen", "tcp", "-ac", "-screen", "0", "640x480x16"], private=["/tmp"])


def xrdp(ctx):
    with open("/etc/xrdp/xrdp.ini") as f:
        ini = f.read()
    lines = []
    for line in ini.splitlines():
        if line.startswith("port="):
            line = f"port=tcp://{svc_ip(20)}:3389"
        elif line.startswith("fork="):
            line = "fork=true"
        lines.append(line)
    conf = ctx.write("xrdp.ini", "\n".join(lines) + "\n")
    return Launch(["xrdp", "--nodaemon", "--config", conf], private=["/run/xrdp"])


def samba(ctx):
    sd = ctx.mkdir("samba")
    for sub in ("pid", "lock", "state", "cache", "private", "ncalrpc"):
        ctx.mkdir(f"samba/{sub}")
    conf = ctx.write("smb.conf", template("smb.conf", A=svc_ip(21), D=sd, LOGS=ctx.logs))
    return Launch(["smbd", "-F", "--no-process-group", "--debug-stdout", "-s", conf])


def cups(ctx):
    d = ctx.mkdir("cups")
    for sub in ("spool", "tmp", "cache", "state", "log", "conf"):
        ctx.mkdir(f"cups/{sub}", mode=0o777 if sub == "tmp" else 0o755)
    conf = ctx.write("cupsd.conf", template("cupsd.conf", A=svc_ip(22), D=d))
    files = ctx.write("cups-files.conf", template("cups-files.conf", D=d))
    return Launch(["cupsd", "-f", "-c", conf, "-s", files])


def pptpd(ctx):
    conf = ctx.write("pptpd.conf", template("pptpd.conf"))
    opts = ctx.write("pptpd-options", "name pptpd\nnodefaultroute\nlock\nnobsdcomp\n")
    return Launch(["pptpd", "-f", "-c", conf, "-o", opts, "-l", svc_ip(23), "-p",
                   ctx.path("data", "pptpd.pid")])


def bird(ctx):
    conf = ctx.write("bird.conf", template("bird.conf", A=svc_ip(24), NET=NET, LOGS=ctx.logs))
    return Launch(["bird", "-f", "-c", conf, "-s", ctx.path("data", "bird.ctl"), "-P",
                   ctx.path("data", "bird.pid")])


def rtsp(ctx):
    return Launch(["rtsp-server-perl", "--clientport", "554", "--client_listen_address", svc_ip(25),
                   "--serverport", "5545", "--source_listen_address", svc_ip(25)])


def tdspool(ctx):
    conf = ctx.write("pool.conf", template("pool.conf", A=svc_ip(26)))
    return Launch(["tdspool", "-c", conf, "lzrpool"],
                  env={"FREETDSCONF": ctx.write("freetds.conf", "[global]\n\ttds version = 7.4\n")})


def pyserver(kind, addr, port):
    def launch(ctx):
        return Launch([venv_python(), os.path.join(HERE, "pyservers.py"), kind, addr, str(port)])
    return launch


def mbox(ctx, spec_path):
    return Launch(["/usr/bin/python3", os.path.join(HERE, "mbox.py"), spec_path])


# name -> (launcher, services it serves). The middlebox listener (`mbox`) is added by bed.py with its spec.
LAUNCHERS = {
    "nginx": (nginx, ["nginx", "nginx-kubernetes", "mb-synproxy"]),
    "lighttpd": (lighttpd, ["lighttpd"]),
    "openssh": (openssh, ["openssh"]),
    "vsftpd": (vsftpd, ["vsftpd"]),
    "opensmtpd": (opensmtpd, ["opensmtpd"]),
    "dovecot": (dovecot, ["dovecot"]),
    "inetd": (inetd, ["telnetd", "mb-echo", "mb-chargen"]),
    "mariadb": (mariadb, ["mariadb"]),
    "postgresql": (postgresql, ["postgresql"]),
    "redis": (redis(svc_ip(11), 6379, "6379"), ["redis"]),
    "redis-80": (redis(svc_ip(12), 80, "80"), ["redis-80"]),
    "memcached": (memcached, ["memcached"]),
    "mosquitto": (mosquitto, ["mosquitto"]),
    "rabbitmq": (rabbitmq, ["rabbitmq"]),
    "dnsmasq": (dnsmasq, ["dnsmasq"]),
    "unbound": (unbound, ["unbound"]),
    "xvnc": (xvnc, ["xvnc"]),
    "xvfb": (xvfb, ["xvfb"]),
    "xrdp": (xrdp, ["xrdp"]),
    "samba": (samba, ["samba"]),
    "cups": (cups, ["cups"]),
    "pptpd": (pptpd, ["pptpd"]),
    "bird": (bird, ["bird"]),
    "rtsp": (rtsp, ["rtsp"]),
    "tdspool": (tdspool, ["tdspool"]),
    "modbus": (pyserver("modbus", svc_ip(27), 502), ["modbus"]),
    "s7": (pyserver("s7", svc_ip(28), 102), ["s7"]),
    "mongodb": (pyserver("mongodb", svc_ip(29), 27017), ["mongodb"]),
    "dnp3": (pyserver("dnp3", svc_ip(30), 20000), ["dnp3"]),
}
