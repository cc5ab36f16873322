// LabClient.java - drives the real IBM Toolbox for Java (jt400.jar) against the lab's IBM i.
//
// Usage: java -cp jt400.jar:. LabClient --host H --user U --password P --services signon,command,...
//          [--secure] [--no-mapper] [--port SERVICE=PORT] [--use] [--pause S] [--hold S] [--label L]
// In: the flags.  --secure uses SecureAS400 (TLS, via LabSSLFactory), --no-mapper calls
// setServicePortsToDefault() so 449 is skipped, --use does one real operation per service after
// connecting (so jt400 sends the service's own next request), --pause waits after connecting,
// --hold waits before disconnecting.  Out: JSON lines on stdout - what it did, per service the
// outcome (ok / exception text), the TCP connections it had open to the host (from /proc), and
// every TLS handshake (LabSSLFactory).  The truth builder reads these lines.
import com.ibm.as400.access.AS400;
import com.ibm.as400.access.CommandCall;
import com.ibm.as400.access.DataQueue;
import com.ibm.as400.access.IFSFile;
import com.ibm.as400.access.SecureAS400;
import com.ibm.as400.access.SocketProperties;
import com.ibm.as400.access.SpooledFileList;
import com.ibm.as400.access.SystemStatus;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.Security;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class LabClient {
    static final Map<String, Integer> SVC = new LinkedHashMap<>();
    static {
        SVC.put("signon", AS400.SIGNON); SVC.put("command", AS400.COMMAND);
        SVC.put("database", AS400.DATABASE); SVC.put("dtaq", AS400.DATAQUEUE);
        SVC.put("file", AS400.FILE); SVC.put("print", AS400.PRINT); SVC.put("central", AS400.CENTRAL);
    }
    static String label = "";
    static String password = "";

    public static synchronized void emit(String event, Object... kv) {
        StringBuilder b = new StringBuilder("{\"event\":\"").append(event).append("\",\"t\":")
            .append(System.currentTimeMillis() / 1000.0).append(",\"label\":").append(q(label));
        for (int i = 0; i + 1 < kv.length; i += 2) {
            b.append(",").append(q(String.valueOf(kv[i]))).append(":");
            Object v = kv[i + 1];
            b.append(v instanceof Number || v instanceof Boolean ? String.valueOf(v)
                     : v == null ? "null" : q(String.valueOf(v)));
        }
        System.out.println(b.append("}"));
        System.out.flush();
    }

    static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append("\"").toString();
    }

    // Established TCP connections to port `rport` set, read from /proc (this netns only).
    static void sockets(String why) {
        List<String> out = new ArrayList<>();
        for (String f : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            try {
                for (String line : Files.readAllLines(Paths.get(f))) {
                    String[] p = line.trim().split("\\s+");
                    if (p.length < 4 || !p[1].contains(":") || !"01".equals(p[3])) continue;
                    int lp = Integer.parseInt(p[1].substring(p[1].indexOf(':') + 1), 16);
                    int rp = Integer.parseInt(p[2].substring(p[2].indexOf(':') + 1), 16);
                    if (lp < 1024 && rp >= 1024) continue;  // skip listeners' side
                    out.add("[" + lp + "," + rp + "]");
                }
            } catch (Exception e) { /* no such file */ }
        }
        System.out.println("{\"event\":\"sockets\",\"t\":" + System.currentTimeMillis() / 1000.0
            + ",\"label\":" + q(label) + ",\"why\":" + q(why) + ",\"conns\":" + out + "}");
    }

    static void use(AS400 sys, String s) throws Exception {
        switch (s) {
            case "command": new CommandCall(sys).run("DSPSYSVAL SYSVAL(QSECURITY)"); break;
            case "dtaq": new DataQueue(sys, "/QSYS.LIB/QGPL.LIB/LABQ.DTAQ").read(0); break;
            case "file": new IFSFile(sys, "/home/LABDATA").exists(); break;
            case "print": new SpooledFileList(sys).openSynchronously(); break;
            case "central": new SystemStatus(sys).getUsersCurrentSignedOn(); break;
            case "database":
                java.sql.DriverManager.registerDriver(new com.ibm.as400.access.AS400JDBCDriver());
                java.sql.DriverManager.getConnection("jdbc:as400://" + sys.getSystemName()
                    + (sys instanceof SecureAS400 ? ";secure=true" : "") + ";prompt=false",
                    sys.getUserId(), password).close();
                break;
            default: sys.validateSignon(); break;
        }
    }

    public static void main(String[] a) throws Exception {
        Security.setProperty("ssl.SocketFactory.provider", "LabSSLFactory");
        String host = null, user = null, pw = null, services = "signon";
        boolean secure = false, noMapper = false, doUse = false;
        int pause = 0, hold = 0;
        Map<String, Integer> fixed = new LinkedHashMap<>();
        for (int i = 0; i < a.length; i++) {
            switch (a[i]) {
                case "--host": host = a[++i]; break;
                case "--user": user = a[++i]; break;
                case "--password": pw = a[++i]; password = pw; break;
                case "--services": services = a[++i]; break;
                case "--secure": secure = true; break;
                case "--no-mapper": noMapper = true; break;
                case "--use": doUse = true; break;
                case "--pause": pause = Integer.parseInt(a[++i]); break;
                case "--hold": hold = Integer.parseInt(a[++i]); break;
                case "--label": label = a[++i]; break;
                case "--port": { String[] kv = a[++i].split("="); fixed.put(kv[0], Integer.parseInt(kv[1])); break; }
                default: throw new IllegalArgumentException(a[i]);
            }
        }
        // Whatever happens, end within a bounded time.
        Thread killer = new Thread(() -> {
            try { Thread.sleep(120_000); } catch (InterruptedException e) { return; }
            emit("timeout"); System.exit(3);
        });
        killer.setDaemon(true); killer.start();
        // Connections stuck in SYN_SENT (unanswered SYNs) never reach the mock: note their ports.
        Thread syns = new Thread(() -> {
            java.util.Set<String> seen = new java.util.HashSet<>();
            while (true) {
                for (String f : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
                    try {
                        for (String line : Files.readAllLines(Paths.get(f))) {
                            String[] p = line.trim().split("\\s+");
                            if (p.length < 4 || !"02".equals(p[3])) continue;
                            int lp = Integer.parseInt(p[1].substring(p[1].indexOf(':') + 1), 16);
                            int rp = Integer.parseInt(p[2].substring(p[2].indexOf(':') + 1), 16);
                            if (seen.add(lp + "/" + rp)) emit("syn_sent", "local_port", lp, "remote_port", rp);
                        }
                    } catch (Exception e) { /* ignore */ }
                }
                try { Thread.sleep(20); } catch (InterruptedException e) { return; }
            }
        });
        syns.setDaemon(true); syns.start();

        AS400 sys = secure ? new SecureAS400(host, user, pw) : new AS400(host, user, pw);
        sys.setGuiAvailable(false);
        SocketProperties sp = new SocketProperties();
        sp.setSoTimeout(10_000);
        sys.setSocketProperties(sp);
        if (noMapper) sys.setServicePortsToDefault();
        for (Map.Entry<String, Integer> e : fixed.entrySet()) sys.setServicePort(SVC.get(e.getKey()), e.getValue());
        emit("start", "client", "jt400", "jt400_version", AS400.class.getPackage().getImplementationVersion(),
             "host", host, "user", user, "secure", secure, "mapper", !noMapper, "services", services);
        int failures = 0;
        for (String s : services.split(",")) {
            long t0 = System.currentTimeMillis();
            String outcome = "ok", err = null;
            try {
                sys.connectService(SVC.get(s));
                emit("connected", "service", s, "port", sys.getServicePort(SVC.get(s)));
            } catch (Exception e) {
                outcome = "error"; err = e.toString(); failures++;
            }
            if (outcome.equals("ok")) {
                sockets("after connect " + s);
                if (pause > 0) Thread.sleep(pause * 1000L);
                if (doUse) {
                    try { use(sys, s); } catch (Throwable e) { err = "use: " + e; }
                }
            }
            emit("service", "service", s, "secure", secure, "outcome", outcome, "error", err,
                 "ms", System.currentTimeMillis() - t0);
            if (outcome.equals("error") && err != null && err.contains("Password")) break;
        }
        sockets("before disconnect");
        if (hold > 0) Thread.sleep(hold * 1000L);
        sys.disconnectAllServices();
        emit("end", "failures", failures);
        System.exit(0);
    }
}
