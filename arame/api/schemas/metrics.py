"""An instance's recent metrics, as its hypervisor agent sampled them."""

from pydantic import BaseModel, Field

from arame.api.schemas.common import UTCDateTime


class MetricSample(BaseModel):
    at: UTCDateTime = Field(description="the end of the sampled interval")
    cpu_percent: float = Field(
        description="CPU time used over the interval, in percent of all "
        "the instance's vcpus (100: every vcpu busy)"
    )
    memory_used_mb: float = Field(
        description="memory in use in the guest (total less available, "
        "as its balloon driver reports; the host's resident memory of "
        "the guest without one)"
    )
    memory_mb: float = Field(description="memory the guest has")
    disk_read_bps: float = Field(description="bytes/s read, all disks")
    disk_write_bps: float = Field(description="bytes/s written, all disks")
    net_rx_bps: float = Field(description="bytes/s received, all NICs")
    net_tx_bps: float = Field(description="bytes/s sent, all NICs")


class InstanceMetrics(BaseModel):
    instance_id: str
    interval: float = Field(
        description="seconds between samples ([hva] metrics_interval of "
        "the instance's host); 0: that host keeps no metrics"
    )
    samples: list[MetricSample] = Field(description="oldest first")
