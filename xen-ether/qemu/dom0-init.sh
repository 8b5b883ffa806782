#!/bin/sh
# dom0's /init for xen-ether/qemu/e2e.sh (runs inside the emulated Xen host; nothing here runs on the
# host machine).  Starts the toolstack, creates the guest paused, attaches ether-agent to it, lets it
# run, and when the guest is gone writes what it found to the results disk as a tar archive:
#   frames.bin (the agent's frame stream), agent.log, guest.log (the guest's console), xl-dmesg.log,
#   status (one line per stage, the last says how it ended).
export PATH=/usr/local/bin:/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/sbin:/bin
[ -f /etc/e2e.env ] && . /etc/e2e.env
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm /out
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
t() { echo "E2E[$(cut -d' ' -f1 /proc/uptime)] $*" | tee -a /out/status; }
finish() {
  t "end: $1"
  xl dmesg > /out/xl-dmesg.log 2>&1
  cp /var/log/xen/console/guest-e2e.log /out/guest.log 2>/dev/null
  disk=$(ls /dev/vd[a-z] 2>/dev/null | head -1)
  if [ -n "$disk" ]; then (cd /out && tar cf "$disk" .) && sync && echo "E2E results written to $disk"
  else echo "E2E: no results disk"; fi
  echo "E2E-DONE"
  sync
  exec busybox poweroff -f
}
t "dom0 up"
for m in xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd virtio_pci virtio_blk; do modprobe $m 2>/dev/null; done
mount -t xenfs xenfs /proc/xen || finish "no xenfs"
mkdir -p /run/xen /run/xenstored /var/log/xen/console /var/lib/xen /var/lib/xenstored
xenstored --pid-file /run/xenstore.pid || finish "xenstored failed"
xen-init-dom0 >/dev/null 2>&1 || finish "xen-init-dom0 failed"
xenconsoled --pid-file /run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console || finish "xenconsoled failed"
t "toolstack up: $(xl info | grep -E '^(xen_version|virt_caps)' | tr -s ' ' | tr '\n' ' ')"
xl create -p /etc/xen/e2e.cfg >/out/xl-create.log 2>&1 || finish "xl create failed: $(tail -1 /out/xl-create.log)"
domid=$(xl domid e2e)
t "guest created paused, domain $domid"
if [ "${NO_TRACE:-0}" = 1 ]; then
  # No agent: the same guest on the same hypervisor with no monitor, for comparison.
  xl unpause "$domid"
  t "guest unpaused without ether-agent"
  i=0
  while xl domid e2e >/dev/null 2>&1 && [ $i -lt "${GUEST_SECONDS:-600}" ]; do
    sleep 1; i=$((i + 1))
    [ $((i % 30)) -eq 0 ] && t "guest running for $i s; guest: $(tail -c 400 /var/log/xen/console/guest-e2e.log 2>/dev/null | tr -d '\r' | grep -v '^$' | tail -1 | cut -c1-100) | $(xenctx "$domid" 0 2>/dev/null | grep -m2 -iE '^ *(cs:)?[er]?ip' | tr -s ' \n' ' ')"
  done
  xl destroy "$domid" 2>/dev/null
  : >/out/frames.bin
  finish "guest ended after $i s (no trace)"
fi
# shellcheck disable=SC2086
ether-agent --domain "$domid" --guest linux $AGENT_OPTIONS >/out/frames.bin 2>/out/agent.log &
agent=$!
i=0
while [ ! -s /out/frames.bin ] && [ $i -lt 300 ]; do
  kill -0 $agent 2>/dev/null || finish "agent exited before its hello frame: $(tail -1 /out/agent.log)"
  sleep 0.2; i=$((i + 1))
done
[ -s /out/frames.bin ] || finish "no hello frame from the agent in 60 s"
t "agent attached (pid $agent); unpausing the guest"
xl unpause "$domid"
i=0
while kill -0 $agent 2>/dev/null; do
  sleep 1; i=$((i + 1))
  # At 10 s, then every 30 s: how far the frames got, the guest console's last line and where its
  # vCPU 0 is (xenctx pauses the domain: bounded, so a stuck pause cannot silence this loop).
  [ $((i % 30)) -eq 0 ] || [ $i -eq 10 ] && t "tracing for $i s, $(wc -c < /out/frames.bin) bytes of frames; guest: \
$(tail -c 400 /var/log/xen/console/guest-e2e.log 2>/dev/null | tr -d '\r' | grep -v '^$' | tail -1 | cut -c1-100) \
| $(timeout 5 xenctx "$domid" 0 2>/dev/null | grep -m2 -iE '^ *(cs:)?[er]?ip' | tr -s ' \n' ' ')"
  if [ $i -ge "${GUEST_SECONDS:-600}" ]; then t "guest still running after $i s: stopping the agent"; kill -TERM $agent; fi
done
wait $agent
rc=$?
t "agent exited $rc after $i s: $(tail -1 /out/agent.log)"
xl destroy "$domid" 2>/dev/null
finish "agent rc=$rc"
