#!/usr/bin/env bash
# Install the Debian packages the test suite and the service use, when missing and when we can (root):
#   postgresql                         the PostgreSQL half of the tests
#   libreoffice-writer-nogui           .docx → PDF (engine/documents/service.py, tests/integration/test_documents_pdf.py)
#   poppler-utils                      pdftotext / pdftoppm / pdffonts for the PDF tests and docs/*.png
#   fonts-noto-cjk                     Chinese glyphs for the PDF
# and a fontconfig alias so the templates' Chinese font names (宋体, 仿宋, 楷体, 黑体, 方正小标宋简体, …) resolve to
# Noto CJK SC; without it LibreOffice falls back to a Japanese face (centred punctuation, Japanese glyph shapes).
# Idempotent: nothing is installed or written when it is already there.
set -euo pipefail
need=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need+=(postgresql); fi
if ! command -v soffice >/dev/null 2>&1; then need+=(libreoffice-writer-nogui); fi
if ! command -v pdftoppm >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1; then need+=(poppler-utils); fi
if ! fc-list 2>/dev/null | grep -q "Noto Serif CJK SC"; then need+=(fonts-noto-cjk); fi

FONT_CONF=/etc/fonts/conf.d/64-eco-claims-cjk.conf
font_conf() {
  local serif=(宋体 SimSun NSimSun 新宋体 STSong 华文宋体 仿宋 仿宋_GB2312 FangSong STFangsong 华文仿宋 楷体 楷体_GB2312
               KaiTi STKaiti 华文楷体 方正小标宋简体 方正小标宋_GBK FZXiaoBiaoSong-B05S 小标宋)
  local sans=(黑体 SimHei STHeiti 华文黑体 微软雅黑 "Microsoft YaHei")
  local title=(方正小标宋简体 方正小标宋_GBK FZXiaoBiaoSong-B05S 小标宋)
  local name
  echo '<?xml version="1.0"?>'
  echo '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
  echo '<!-- eco-claims (tools/system-packages.sh): the Chinese font names of document_templates/ → Noto CJK SC -->'
  echo '<fontconfig>'
  for name in "${serif[@]}"; do
    echo "  <alias binding=\"same\"><family>$name</family><prefer><family>Noto Serif CJK SC</family></prefer></alias>"
  done
  for name in "${sans[@]}"; do
    echo "  <alias binding=\"same\"><family>$name</family><prefer><family>Noto Sans CJK SC</family></prefer></alias>"
  done
  # 小标宋 (the titles) is a heavy Song: the bold Noto Serif stands in for it
  for name in "${title[@]}"; do
    echo "  <match target=\"pattern\"><test name=\"family\"><string>$name</string></test>"
    echo "    <edit name=\"weight\" mode=\"assign\" binding=\"strong\"><const>bold</const></edit></match>"
  done
  echo '</fontconfig>'
}

if [ "$(id -u)" != "0" ]; then
  if [ ${#need[@]} -gt 0 ]; then
    echo "missing system packages: ${need[*]} (run as root or install them); the tests that need them are skipped" >&2
  fi
  if [ ! -f "$FONT_CONF" ]; then
    echo "no fontconfig alias for the Chinese fonts ($FONT_CONF): run this script as root" >&2
  fi
  exit 0
fi

if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ -d /etc/fonts/conf.d ]; then
  tmp=$(mktemp)
  font_conf >"$tmp"
  if ! cmp -s "$tmp" "$FONT_CONF"; then
    install -m 0644 "$tmp" "$FONT_CONF"
    fc-cache -f >/dev/null 2>&1 || true
  fi
  rm -f "$tmp"
fi
