// The Java example of double-random's C ABI, through JNA: a draw, its
// verification, a tampered file reported, and a bad input's position.
//
//   java -cp /usr/share/java/jna.jar:. -Djna.library.path=DIR DrawAndVerify PLAN OUT BAD_PLAN
//
// A platform would parse the answers with its JSON library (Jackson,
// Gson); this example only looks for a few fields so it needs none.
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

public class DrawAndVerify {
    /** The C ABI: JSON in, JSON out; every answer goes back to dr_free. */
    public interface DoubleRandom extends Library {
        DoubleRandom LIB = Native.load("double_random", DoubleRandom.class);

        Pointer dr_draw(String request);
        Pointer dr_commit(String request);
        Pointer dr_verify(String request);
        void dr_free(Pointer answer);
        String dr_version();
    }

    /** Calls the library and frees its answer, returning it as a Java string. */
    interface Call {
        Pointer apply(String request);
    }

    static String ask(Call call, String request) {
        Pointer p = call.apply(request);
        try {
            return p.getString(0, "UTF-8");
        } finally {
            DoubleRandom.LIB.dr_free(p);
        }
    }

    static String json(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    static int failures = 0;

    static void expect(boolean ok, String what, String answer) {
        if (ok) {
            System.out.println("ok: " + what);
        } else {
            System.err.println("FAILED: " + what + "\n" + answer);
            failures++;
        }
    }

    public static void main(String[] args) throws Exception {
        String plan = args[0], out = args[1], bad = args[2];
        DoubleRandom dr = DoubleRandom.LIB;
        System.out.println("double-random " + dr.dr_version());

        String draw = ask(dr::dr_draw, "{\"plans\": [" + json(plan) + "], \"seed\": \"2027-03-01 lottery 0417 2953\", \"out\": " + json(out) + "}");
        expect(draw.contains("\"ok\": true"), "the draw succeeds", draw);

        String record = "{\"record\": " + json(out + "/record.json") + "}";
        String verified = ask(dr::dr_verify, record);
        expect(verified.contains("\"verified\": true"), "the draw verifies", verified);

        java.nio.file.Path visits = java.nio.file.Paths.get(out, "visits.csv");
        String text = new String(java.nio.file.Files.readAllBytes(visits), "UTF-8");
        java.nio.file.Files.write(visits, text.replaceFirst("2027-", "2028-").getBytes("UTF-8"));
        String tampered = ask(dr::dr_verify, record);
        expect(tampered.contains("\"verified\": false") && tampered.contains("visits.csv"),
               "the tampered visits.csv is reported", tampered);

        String error = ask(dr::dr_commit, "{\"plan\": " + json(bad) + "}");
        expect(error.contains("\"ok\": false") && error.contains("\"file\": \"entities.csv\"")
               && error.contains("\"line\": 3") && error.contains("\"field\": \"risk_class\""),
               "a bad risk class is reported with file, line and field", error);

        if (failures > 0) {
            System.err.println(failures + " check(s) failed");
            System.exit(1);
        }
        System.out.println("all checks passed");
    }
}
