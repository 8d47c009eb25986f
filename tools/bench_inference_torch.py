"""PyTorch's forward pass of the paper's U-Net under torch.no_grad, timed per image: the yardstick for
`compseg bench --inference` and for `compseg segment`'s per-spot time (issue 24). Same network as
../shared/bench/torch_compsegnet.py (imported from there), same arguments as `compseg bench`.

    $(../shared/bench/setup-torch.sh) tools/bench_inference_torch.py --channels 450 --size 256 --width 64 --batch 1 --steps 5

Prints one JSON line: image_s (mean seconds per image over the timed passes, after one warm-up),
best_image_s, images_per_s, peak_mib (the process's peak resident memory).
"""
import argparse, json, os, resource, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'bench'))
import torch  # noqa: E402
from torch_compsegnet import UNet  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--channels', type=int, default=450); p.add_argument('--size', type=int, default=256)
    p.add_argument('--width', type=int, default=64); p.add_argument('--depth', type=int, default=4)
    p.add_argument('--batch', type=int, default=1); p.add_argument('--steps', type=int, default=5)
    p.add_argument('--threads', type=int, default=0)
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = UNet(a.channels, a.width, a.depth).eval()
    x = torch.randn(a.batch, a.channels, a.size, a.size)
    times = []
    with torch.no_grad():
        net(x)
        for _ in range(a.steps):
            t = time.perf_counter(); net(x); times.append(time.perf_counter() - t)
    mean = sum(times) / len(times)
    print(json.dumps(dict(framework='torch', mode='inference', channels=a.channels, size=a.size, width=a.width,
                          depth=a.depth, batch=a.batch, threads=torch.get_num_threads(),
                          image_s=round(mean / a.batch, 5), best_image_s=round(min(times) / a.batch, 5),
                          images_per_s=round(a.batch / mean, 2),
                          peak_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                          torch=torch.__version__)), flush=True)


if __name__ == '__main__':
    main()
