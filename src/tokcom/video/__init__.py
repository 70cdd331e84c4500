"""Video I/O (PyAV), colour conversion, crop/resize and the model-tensor converters."""

from tokcom.video.io import parse_size, read_video, rgb_to_yuv_frame, write_preview, write_video, yuv_frame_to_rgb
from tokcom.video.transform import center_crop_box, crop_resize, from_tensor, to_tensor

__all__ = [
    "read_video", "write_video", "write_preview", "parse_size", "crop_resize", "center_crop_box",
    "to_tensor", "from_tensor", "rgb_to_yuv_frame", "yuv_frame_to_rgb",
]
