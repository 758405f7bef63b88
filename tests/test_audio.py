"""Speech, WAV files, lip-sync envelopes, music bed and mix, checked on real audio."""

from __future__ import annotations

import math
import re
import subprocess
import threading
from pathlib import Path

import espeakng_loader
import imageio_ffmpeg
import numpy as np
import pyloudnorm
import pytest

from inkreel.art.writing import script_counts
from inkreel.media import audio, loudness, music
from inkreel.media.audio import SpeechError
from inkreel.media.languages import LANGUAGES
from inkreel.schemas.design import Voice

LINE = "We should leave before the storm reaches the harbour tonight."
M3 = Voice(variant="m3", pitch=50, speed=170)
F2 = Voice(variant="f2", pitch=50, speed=150)
VARIANT_DIR = Path(espeakng_loader.get_data_path()) / "voices" / "!v"


def duration(result: tuple[np.ndarray, int]) -> float:
    samples, rate = result
    return len(samples) / rate


def test_speech_is_real_audio_and_grows_with_text():
    short = audio.synthesize("Go.", M3, "en")
    long = audio.synthesize(LINE + " " + LINE, M3, "en")
    for samples, rate in (short, long):
        assert rate == 22050
        assert samples.dtype == np.float32 and samples.ndim == 1
        assert np.abs(samples).max() <= 1.0
        assert audio.rms_dbfs(samples) > -35.0
    assert 0.2 < duration(short) < 1.2
    assert duration(long) > 3 * duration(short)
    # Silence at either end is cut to the ~60 ms pad, not left as eSpeak made it.
    samples, rate = long
    pad = round(audio.SPEECH_PAD_S * rate)
    assert np.abs(samples[:pad]).max() == 0.0 and np.abs(samples[-pad:]).max() == 0.0
    assert np.abs(samples[pad : pad + round(0.02 * rate)]).max() > 0.0


def test_same_line_same_voice_is_bit_identical_whatever_came_before():
    first, _ = audio.synthesize(LINE, F2, "en")
    # eSpeak carries generator state from one utterance to the next; other lines, voices and
    # threads in between must not change this line.
    audio.synthesize("Something else entirely, said by someone else.", M3, "en")
    audio.synthesize("你好，我们走吧。", F2, "zh")
    results: list[np.ndarray] = []

    def speak() -> None:
        results.append(audio.synthesize(LINE, F2, "en")[0])

    threads = [threading.Thread(target=speak) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    for again in results:
        assert np.array_equal(first, again)


def test_same_line_survives_a_helper_restart():
    # F2 is breathy: its noise comes from eSpeak's generator, seeded per line, not by the clock.
    first, _ = audio.synthesize(LINE, F2, "en")
    engine = audio._engine()
    engine._proc.kill()
    engine._proc.wait()
    # A fresh helper is a fresh process: the line must come out exactly as before.
    again, _ = audio.synthesize(LINE, F2, "en")
    assert audio._engine() is not engine
    assert np.array_equal(first, again)


def test_different_characters_sound_different():
    names = ["Mei", "Lin", "Ben", "Captain Rho"]
    voices = {name: audio.voice_for(name, "en") for name in names}
    a, b = "Mei", next(n for n in names if voices[n].variant != voices["Mei"].variant)
    sa, _ = audio.synthesize(LINE, voices[a], "en")
    sb, _ = audio.synthesize(LINE, voices[b], "en")
    assert sa.shape != sb.shape or not np.allclose(sa, sb, atol=1e-3)


def test_voice_for_is_stable_valid_and_spread():
    # Pinned: a character must keep its voice across episodes, machines and releases.
    assert audio.voice_for("Mei", "en") == Voice(variant="m5", pitch=42, speed=160)
    assert audio.voice_for("Captain Rho", "en") == Voice(variant="f5", pitch=46, speed=166)
    assert audio.voice_for(" mei ", "en") == audio.voice_for("Mei", "en")
    installed = {p.name for p in VARIANT_DIR.iterdir()}
    assert set(audio.VOICE_VARIANTS) <= installed
    voices = [audio.voice_for(f"character {i}", lang) for i in range(300) for lang in ("en", "ja")]
    for v in voices:
        assert v.variant in audio.VOICE_VARIANTS
        assert 0 <= v.pitch <= 99 and 80 <= v.speed <= 260
    assert len({v.variant for v in voices}) == len(audio.VOICE_VARIANTS)
    en = [audio.voice_for(f"character {i}", "en") for i in range(40)]
    assert len({(v.variant, v.pitch, v.speed) for v in en}) == 40


def test_chinese_and_japanese_are_spoken_not_spelled():
    zh = audio.synthesize("你好，我们走吧。", F2, "zh")
    ja_kana = audio.synthesize("わたしはがくせいです。", F2, "ja")
    ja_kanji = audio.synthesize("私は学生です。", F2, "ja")
    for result in (zh, ja_kana, ja_kanji):
        assert 0.8 < duration(result) < 3.5
        assert audio.rms_dbfs(result[0]) > -35.0
    # Spelled out, each kanji becomes the English words "Chinese letter" (about 4 s here).
    assert duration(ja_kanji) < 1.5 * duration(ja_kana)
    assert 1.0 < duration(audio.synthesize("こんにちは、行きましょう。", F2, "ja")) < 3.5


def test_speech_errors_are_clear():
    with pytest.raises(SpeechError, match=r"language 'xx'.*inkreel languages"):
        audio.synthesize("Hello.", M3, "xx")
    with pytest.raises(SpeechError, match="language 'xx'"):
        audio.voice_for("Mei", "xx")
    with pytest.raises(SpeechError, match="empty"):
        audio.synthesize("   ", M3, "en")
    # A Voice cannot name a variant eSpeak lacks; the engine still refuses one built around it.
    unknown = Voice.model_construct(variant="nosuchvoice", pitch=50, speed=170)
    with pytest.raises(SpeechError, match="variant"):
        audio.synthesize("Hello.", unknown, "en")
    with pytest.raises(SpeechError, match="no audio"):
        audio.synthesize("...", M3, "en")
    with pytest.raises(SpeechError, match="cannot load"):
        audio._Engine(library="/nonexistent/libespeak-ng.so")


# A short word in every voiced language ("thank you" or "hello").
WORDS = {
    "af": "Dankie", "am": "ሰላም", "an": "Grazias", "ar": "مرحبا", "as": "নমস্কাৰ",
    "az": "Salam", "ba": "Сәләм", "be": "Дзякуй", "bg": "Здравей", "bn": "নমস্কার",
    "bs": "Zdravo", "ca": "Gràcies", "cs": "Děkuji", "cv": "Салам", "cy": "Diolch",
    "da": "Tak", "de": "Danke", "el": "Ευχαριστώ", "en": "Thanks", "eo": "Dankon",
    "es": "Gracias", "et": "Aitäh", "eu": "Eskerrik", "fa": "سلام", "fi": "Kiitos",
    "fr": "Merci", "ga": "Dia duit", "gd": "Tapadh leat", "gn": "Aguyje",
    "grc": "Χαῖρε", "gu": "નમસ્તે", "haw": "Aloha", "he": "שלום", "hi": "नमस्ते",
    "hr": "Hvala", "ht": "Mèsi", "hu": "Köszönöm", "hy": "Բարեւ", "ia": "Gratias",
    "id": "Terima kasih", "is": "Takk", "it": "Grazie", "ja": "ありがとう", "ka": "გამარჯობა",
    "kk": "Сәлем", "kl": "Qujanaq", "kn": "ನಮಸ್ಕಾರ", "ko": "안녕하세요", "kok": "नमस्कार",
    "ku": "Spas", "ky": "Салам", "la": "Salve", "lb": "Merci", "lt": "Ačiū",
    "ltg": "Paļdis", "lv": "Paldies", "mi": "Kia ora", "mk": "Здраво", "ml": "നമസ്കാരം",
    "mr": "नमस्कार", "ms": "Terima kasih", "mt": "Grazzi", "my": "မင်္ဂလာပါ", "ne": "नमस्ते",
    "nl": "Dank je", "no": "Takk", "om": "Galatoomi", "or": "ନମସ୍କାର", "pa": "ਸਤਿ ਸ੍ਰੀ ਅਕਾਲ",
    "pl": "Dziękuję", "pt": "Obrigado", "qu": "Sulpayki", "ro": "Mulțumesc", "ru": "Спасибо",
    "sd": "مهرباني", "si": "ආයුබෝවන්", "sk": "Ďakujem", "sl": "Hvala", "sq": "Faleminderit",
    "sr": "Хвала", "sv": "Tack", "sw": "Asante", "ta": "வணக்கம்", "te": "నమస్కారం",
    "th": "สวัสดี", "ti": "ሰላም", "tk": "Sag bol", "tn": "Dumela", "tr": "Teşekkürler",
    "tt": "Рәхмәт", "ug": "رەھمەت", "uk": "Дякую", "ur": "شکریہ", "uz": "Rahmat",
    "vi": "Cảm ơn", "yue": "多謝", "zh": "谢谢",
}  # fmt: skip


def test_every_voiced_language_says_a_word_in_about_the_time_of_a_word():
    # The whole table takes about a second: every voice file in it must load and speak (a
    # voice without its dictionary, like this build's Faroese, says nothing at all).
    assert set(WORDS) == set(LANGUAGES)
    for code, word in WORDS.items():
        assert script_counts(word).most_common(1)[0][0] == LANGUAGES[code].script, code
        voice = audio.voice_for(f"someone speaking {code}", code)
        samples, rate = audio.synthesize(word, voice, code)
        assert audio.rms_dbfs(samples) > -35.0, code
        # Spelled out letter by letter, a word takes 3-6 s.
        assert 0.15 < len(samples) / rate < 2.0, (code, len(samples) / rate)


TELUGU_WORD = "నమస్కారం"  # namaskāram, four syllables


def test_telugu_is_spoken_by_the_telugu_voice_not_spelled_by_the_english_one():
    telugu = duration(audio.synthesize(TELUGU_WORD, F2, "te"))
    english = duration(audio.synthesize("Good morning", F2, "en"))
    # What eSpeak's English voice makes of it on its own: "Telugu letter na, ..." (about 5 s).
    engine = audio._engine()
    pcm = engine.speak(TELUGU_WORD, "en-us+f2", F2.speed, F2.pitch, audio._CHARS_UTF8)
    spelled = len(pcm) / engine.sample_rate
    assert telugu < 1.6 * english
    assert spelled > 4 * telugu


def test_words_in_another_script_are_read_by_that_scripts_voice():
    # An English line with a Russian word, a Japanese line with an English one, a Telugu word
    # in an English episode: each run goes to a voice that reads it.
    english = duration(audio.synthesize("Hello, my friend.", M3, "en"))
    mixed = duration(audio.synthesize("Hello, Привет, my friend.", M3, "en"))
    assert mixed < english + 1.2
    kana = duration(audio.synthesize("わたしはがくせいです。", F2, "ja"))
    with_latin = duration(audio.synthesize("わたしはがくせいです。Hello!", F2, "ja"))
    assert with_latin < kana + 1.2
    in_english = duration(audio.synthesize(TELUGU_WORD, F2, "en"))
    assert in_english < 2 * duration(audio.synthesize(TELUGU_WORD, F2, "te"))


def test_a_language_without_a_voice_is_voiced_by_a_stand_in():
    # Galician by the Portuguese voice; Khmer, which no voice reads, as a rough romanisation.
    galician = audio.synthesize("Bos días, como estás?", M3, "gl")
    assert 0.5 < duration(galician) < 3.0
    khmer = audio.synthesize("សួស្តី", M3, "km")
    assert 0.3 < duration(khmer) < 2.0 and audio.rms_dbfs(khmer[0]) > -35.0
    assert audio.voice_for("Mei", "km").variant in audio.VOICE_VARIANTS


def test_loudness_envelope_follows_speech():
    speech, rate = audio.synthesize(LINE, M3, "en")
    gap = np.zeros(rate // 2, dtype=np.float32)
    padded = np.concatenate([gap, speech, gap])
    env = audio.loudness_envelope(padded, rate, fps=24)
    assert env.shape == (math.ceil(len(padded) * 24 / rate),)
    assert env.min() >= 0.0 and env.max() <= 1.0 and env.max() > 0.7
    quiet = np.concatenate([env[:10], env[-10:]])
    talking = env[14:-14]
    assert quiet.max() < 0.05
    assert talking.mean() > 0.25
    assert audio.loudness_envelope(np.zeros(0, dtype=np.float32), rate).shape == (0,)


@pytest.mark.parametrize("mood", ["calm", "warm", "tense"])
def test_music_bed_is_deterministic_and_clean(mood):
    bed = music.music_bed(12.0, seed=3, mood=mood)
    assert bed.dtype == np.float32 and bed.shape == (12 * 44100,)
    assert np.array_equal(bed, music.music_bed(12.0, seed=3, mood=mood))
    other = music.music_bed(12.0, seed=4, mood=mood)
    assert not np.allclose(bed, other, atol=1e-3)
    assert np.abs(bed).max() < 1.0
    assert -30.0 < audio.rms_dbfs(bed) < -8.0
    # Faded in and out, and no clicks: no sample jumps far beyond the music's own motion.
    assert np.abs(bed[:100]).max() < 1e-3 and np.abs(bed[-100:]).max() < 1e-3
    assert np.abs(np.diff(bed)).max() < 0.06


def test_music_bed_edges():
    assert music.music_bed(0.0, seed=1).shape == (0,)
    assert music.music_bed(1.0, seed=1, sample_rate=22050).shape == (22050,)
    with pytest.raises(ValueError, match="mood"):
        music.music_bed(5.0, seed=1, mood="jaunty")


def lufs(samples: np.ndarray, rate: int = 44100) -> float:
    """Integrated loudness straight from pyloudnorm's BS.1770-4 meter (not our helper)."""
    return float(pyloudnorm.Meter(rate).integrated_loudness(np.asarray(samples, np.float64)))


def peak_dbfs(samples: np.ndarray) -> float:
    return 20 * math.log10(float(np.abs(samples).max()))


def gain_curve(out: np.ndarray, raw: np.ndarray, win: int = 220) -> np.ndarray:
    """Per-sample gain g with out ~= g * raw, fitted over short windows (least squares)."""
    n = raw.size // win * win
    a = out[:n].astype(np.float64).reshape(-1, win)
    b = raw[:n].astype(np.float64).reshape(-1, win)
    g = (a * b).sum(axis=1) / np.maximum((b * b).sum(axis=1), 1e-18)
    return np.concatenate([np.repeat(g, win), np.full(raw.size - n, g[-1])])


def test_mix_is_at_minus_16_lufs_and_ducks_music_under_dialogue():
    rate = 44100
    speech, speech_rate = audio.synthesize(LINE, M3, "en")
    bed = music.music_bed(10.0, seed=5)
    dialogue = [(speech, speech_rate, 2.0)]
    duration_s = 10.0
    mixed = audio.mix(dialogue, bed, duration_s)
    assert mixed.dtype == np.float32 and mixed.shape == (round(duration_s * rate),)
    assert lufs(mixed) == pytest.approx(-16.0, abs=0.5)
    assert peak_dbfs(mixed) <= -1.0
    assert loudness.true_peak_dbfs(mixed) <= loudness.MIX_TRUE_PEAK_DBTP + 0.05

    # Before normalisation the music is exactly mix - voice; normalisation is one gain and a
    # limiter, i.e. a smooth gain curve on the whole mix, which the music shares.
    raw = audio.mix(dialogue, bed, duration_s, target_lufs=None)
    voice_raw = audio.mix(dialogue, None, duration_s, target_lufs=None)
    gain = gain_curve(mixed, raw)
    residual = audio.rms_dbfs(mixed - gain * raw) - audio.rms_dbfs(mixed)
    assert residual < -30.0  # it is a gain on the raw mix
    bed_part = gain * (raw - voice_raw)
    line_end = 2.0 + len(speech) / speech_rate
    under = bed_part[round(2.3 * rate) : round((line_end - 0.3) * rate)]
    gap = bed_part[round((line_end + 0.5) * rate) : round((line_end + 1.5) * rate)]
    assert audio.rms_dbfs(gap) - audio.rms_dbfs(under) >= 6.0
    # Dialogue lands where it was placed, resampled to the mix rate.
    voice_only = audio.mix(dialogue, None, duration_s)
    assert np.abs(voice_only[: round(1.9 * rate)]).max() == 0.0
    assert audio.rms_dbfs(voice_only[round(2.1 * rate) : round(line_end * rate)]) > -30.0
    assert lufs(voice_only) == pytest.approx(-16.0, abs=0.5)


def test_quiet_and_loud_material_both_land_at_minus_16():
    rate = 44100
    speech, speech_rate = audio.synthesize(LINE, F2, "en")
    noise = np.random.default_rng(1).standard_normal(rate * 4)
    t = np.arange(rate * 4) / rate
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) / 3
    cases = {
        "whisper speech": 0.003 * speech,
        "hot speech": np.clip(8.0 * speech, -1, 1),
        "quiet noise": 0.001 * noise,
        "clipped noise": np.clip(0.9 * noise, -1, 1),
        "soft chord": 0.01 * chord,
        "loud chord": 0.99 * chord,
    }
    for name, signal in cases.items():
        data = signal.astype(np.float32)
        before = data.copy()
        out = loudness.normalise_loudness(data, speech_rate if "speech" in name else rate)
        out_rate = speech_rate if "speech" in name else rate
        assert np.array_equal(data, before), name  # the input is left alone
        assert out.dtype == np.float32 and out.shape == data.shape, name
        assert lufs(out, out_rate) == pytest.approx(-16.0, abs=0.5), name
        assert peak_dbfs(out) <= -1.0, name
        assert loudness.true_peak_dbfs(out) <= -1.0 + 0.05, name
        assert loudness.integrated_lufs(out, out_rate) == pytest.approx(lufs(out, out_rate))
    # Through the mixer too: a whisper of a line and a shouted one give the same loudness.
    for scale in (0.002, 20.0):
        line = np.clip(scale * speech, -1, 1).astype(np.float32)
        out = audio.mix([(line, speech_rate, 0.5)], music.music_bed(6.0, seed=2), 6.0)
        assert lufs(out) == pytest.approx(-16.0, abs=0.5)
        assert peak_dbfs(out) <= -1.0


def test_normalise_loudness_other_targets_stereo_and_edges():
    rate = 48000
    noise = np.random.default_rng(2).standard_normal((rate * 3, 2)) * 0.05
    out = loudness.normalise_loudness(noise, rate, target_lufs=-23.0, peak_dbfs=-2.0)
    assert out.shape == noise.shape
    assert lufs(out, rate) == pytest.approx(-23.0, abs=0.2)
    assert peak_dbfs(out) <= -2.0
    # Silence and clips shorter than one 400 ms block cannot be measured: peaks only.
    assert np.array_equal(loudness.normalise_loudness(np.zeros(rate), rate), np.zeros(rate))
    assert loudness.integrated_lufs(np.zeros(rate), rate) == -math.inf
    short = np.clip(np.random.default_rng(3).standard_normal(rate // 10), -1, 1)
    assert loudness.integrated_lufs(short, rate) == -math.inf
    assert peak_dbfs(loudness.normalise_loudness(short, rate)) <= -1.0
    with pytest.raises(ValueError):
        loudness.normalise_loudness(np.zeros((2, 2, 2)), rate)


def test_true_peak_sees_between_the_samples():
    rate = 44100
    # A quarter-rate sine sampled 45 degrees off its crests: every sample is at 0.707 of the
    # amplitude, so the sample peak reads -3 dB low and only oversampling finds the crests.
    n = np.arange(rate)
    fade = np.minimum(1.0, np.minimum(n, n[::-1]) / 2000)  # no edge for the filter to ring on
    wave_ = 0.9 * np.sin(np.pi / 2 * n + np.pi / 4) * fade
    assert peak_dbfs(wave_) == pytest.approx(20 * math.log10(0.9 * math.sqrt(0.5)), abs=0.01)
    assert loudness.true_peak_dbfs(wave_) == pytest.approx(20 * math.log10(0.9), abs=0.1)
    limited = loudness.normalise_loudness(wave_.astype(np.float32), rate, -6.0, -1.0)
    assert loudness.true_peak_dbfs(limited) <= -1.0 + 0.05
    assert loudness.true_peak_dbfs(np.zeros(0)) == loudness.SILENCE_FLOOR_DBFS


@pytest.mark.parametrize("channels", [1, 2])
def test_envelope_above_a_floor_is_the_whole_envelope_where_it_matters(channels):
    # Bursts whose crests fall between the samples (a quarter-rate sine 45 degrees off: every
    # sample 3 dB under the crest), quiet gaps and a few isolated clicks: the limiter's
    # envelope, oversampled only where it could pass the floor, must equal the fully
    # oversampled one wherever either is over the floor, and stay under it elsewhere.
    rng = np.random.default_rng(7)
    n = 3 * (1 << 18) + 1234  # more than one oversampling block, not a multiple of one
    t = np.arange(n)
    bursts = (np.sin(2 * np.pi * t / 20000) > 0.3) * np.sin(np.pi / 2 * t + np.pi / 4)
    signal = bursts + 0.02 * rng.standard_normal(n)
    signal[rng.integers(0, n, 40)] = rng.choice([-0.99, 0.99], 40)
    if channels == 2:
        signal = np.stack([signal, 0.5 * np.roll(signal, 333)], axis=1)
    floor = 10 ** (-1.1 / 20)
    whole = loudness._true_peak_envelope(signal)
    above = loudness._true_peak_envelope(signal, floor=floor)
    over = (whole > floor) | (above > floor)
    assert 0.05 < over.mean() < 0.5  # both kinds of sample are there
    np.testing.assert_array_equal(above[over], whole[over])
    assert float(above[~over].max()) <= floor
    quiet = 0.1 * signal
    np.testing.assert_array_equal(
        loudness._true_peak_envelope(quiet, floor=floor), np.abs(quiet).reshape(n, -1).max(axis=1)
    )


def test_normalised_mix_keeps_its_loudness_through_aac(tmp_path):
    """Encode with the same AAC settings as render.assemble and read ffmpeg's R128 meter."""
    speech, speech_rate = audio.synthesize(LINE, M3, "en")
    dialogue = [(speech, speech_rate, 1.0), (speech, speech_rate, 6.0)]
    mixed = audio.mix(dialogue, music.music_bed(10.0, seed=9), 10.0)
    wav = audio.write_wav(tmp_path / "mix.wav", mixed, 44100)
    m4a = tmp_path / "mix.m4a"
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run(
        [ffmpeg, "-y", "-loglevel", "error", "-i", str(wav), "-c:a", "aac", "-b:a", "160k",
         str(m4a)],
        check=True,
    )  # fmt: skip
    meter = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostats", "-i", str(m4a), "-af", "ebur128=peak=true",
         "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    summary = meter[meter.rindex("Summary:") :]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    true_peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))
    assert integrated == pytest.approx(-16.0, abs=1.0)
    assert true_peak <= -1.0


def test_mix_exact_length_and_loud_lines_stay_under_ceiling():
    rate = 44100
    loud = np.clip(np.sin(np.linspace(0, 2000, 30000)) * 3.0, -1, 1).astype(np.float32)
    out = audio.mix([(loud, 22050, 0.25), (loud, 22050, 0.3), (loud, 48000, 1.9)], None, 2.0001)
    assert out.shape == (round(2.0001 * rate),)
    assert np.abs(out).max() <= 10 ** (-1 / 20) + 1e-6
    assert audio.mix([], None, 0.5).shape == (22050,)
    raw = audio.mix([(loud, 22050, 0.25)], None, 2.0, target_lufs=None)
    assert np.abs(raw).max() <= 10 ** (-1 / 20) + 1e-6


def test_wav_round_trip(tmp_path):
    rate = 22050
    mono = (0.5 * np.sin(np.linspace(0, 300, rate))).astype(np.float32)
    stereo = np.stack([mono, -mono], axis=1)
    for name, data in (("mono.wav", mono), ("stereo.wav", stereo)):
        path = audio.write_wav(tmp_path / "sub" / name, data, rate)
        assert path == tmp_path / "sub" / name and path.exists()
        back, back_rate = audio.read_wav(path)
        assert back_rate == rate and back.shape == data.shape and back.dtype == np.float32
        assert np.abs(back - data).max() < 2 / 32767
    assert [p.name for p in (tmp_path / "sub").iterdir() if p.name.startswith(".")] == []


def test_rms_dbfs():
    sine = np.sin(np.linspace(0, 2 * np.pi * 100, 44100, endpoint=False))
    assert audio.rms_dbfs(sine) == pytest.approx(-3.01, abs=0.01)
    assert audio.rms_dbfs(np.zeros(10)) == -120.0
    assert audio.rms_dbfs(np.zeros(0)) == -120.0
