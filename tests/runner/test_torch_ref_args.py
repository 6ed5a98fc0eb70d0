"""The torch reference scripts' shared pieces (kernels/common/torch_ref.py: arg_parser,
timed_fields) on the CPU: torch is replaced by an empty module, the CUDA-event timer by
fixed samples.
Also compiles each script, which cannot run here (they need torch and a GPU)."""
import os
import py_compile
import sys
import tempfile
import types
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SCRIPTS = ["kernels/attention/fwd/torch_sdpa_ref.py", "kernels/attention/decode/torch_decode_ref.py",
           "kernels/attention/mla/torch_mla_ref.py"]

sys.modules.setdefault("torch", types.ModuleType("torch"))
sys.path.insert(0, os.path.join(ROOT, "kernels", "common"))
import torch_ref  # noqa: E402


class ArgParser(unittest.TestCase):
    def test_out_is_required(self):
        with self.assertRaises(SystemExit) as e, open(os.devnull, "w") as null:
            stderr, sys.stderr = sys.stderr, null
            try:
                torch_ref.arg_parser("d").parse_args([])
            finally:
                sys.stderr = stderr
        self.assertEqual(e.exception.code, 2)

    def test_defaults_and_values(self):
        a = torch_ref.arg_parser("d").parse_args(["--out", "x.json"])
        self.assertEqual((a.out, a.reps), ("x.json", 30))
        a = torch_ref.arg_parser("d", reps=50).parse_args(["--out", "y.json", "--reps", "25"])
        self.assertEqual((a.out, a.reps), ("y.json", 25))
        self.assertEqual(torch_ref.arg_parser("d", reps=50).parse_args(["--out", "y"]).reps, 50)
        self.assertEqual(torch_ref.arg_parser("what it does").description, "what it does")

    def test_a_script_adds_its_own_flags(self):
        ap = torch_ref.arg_parser("d")
        ap.add_argument("--passes", type=int, default=3)
        a = ap.parse_args(["--out", "z", "--passes", "4"])
        self.assertEqual((a.reps, a.passes), (30, 4))

    def test_timed_fields_from_the_samples(self):
        timed = torch_ref.time_ms
        torch_ref.time_ms = lambda fn, reps, flush: [2.0, 1.0, 3.0, 2.5][:reps]  # ms, as CUDA events give
        try:
            f = torch_ref.timed_fields(None, 3, None, 4e9)
        finally:
            torch_ref.time_ms = timed
        self.assertEqual(f["samples_ms"], [2.0, 1.0, 3.0])
        self.assertEqual((f["median_ms"], f["min_ms"]), (2.0, 1.0))
        self.assertAlmostEqual(f["gbps"], 2000.0)  # 4 GB in 2 ms

    def test_scripts_compile(self):
        with tempfile.TemporaryDirectory() as d:
            for s in SCRIPTS:
                py_compile.compile(os.path.join(ROOT, s), cfile=os.path.join(d, os.path.basename(s) + "c"),
                                   doraise=True)


if __name__ == "__main__":
    unittest.main()
