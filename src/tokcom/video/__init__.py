"""Video I/O (PyAV), colour conversion, crop/resize and the model-tensor converters."""

from tokcom.video.io import (
    parse_size,
    read_video,
    rgb_to_yuv_frame,
    write_preview,
    write_video,
    yuv_frame_to_rgb,
)
from tokcom.video.transform import center_crop_box, crop_resize, from_tensor, to_tensor

__all__ = [
    "center_crop_box",
    "crop_resize",
    "from_tensor",
    "parse_size",
    "read_video",
    "rgb_to_yuv_frame",
    "to_tensor",
    "write_preview",
    "write_video",
    "yuv_frame_to_rgb",
]
