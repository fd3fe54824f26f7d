package io.moeflink.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * A generated, seeded sample of text that exercises every branch of a tokenizer's split rules:
 * English with contractions, code, numbers, white-space runs, CJK, Cyrillic, Arabic, Devanagari,
 * emoji (with ZWJ sequences, skin tones and flags), combining marks, random Unicode, and chat
 * conversations rendered with special tokens. Each item is one text; together they are well over
 * 100,000 characters.
 */
final class MultilingualSample {

  private static final String[] ENGLISH = (
      "the of and to in is it that was for on are with as I his they be at one have this from or had by "
      + "hot word but what some we can out other were all there when up use your how said an each she "
      + "which do their time if will way about many then them write would like so these her long make "
      + "thing see him two has look more day could go come did number sound no most people my over know "
      + "water than call first who may down side been now find Hello World OpenAI DeepSeek Flink Kafka "
      + "don't can't I'll we've you're he'd she's THEY'RE It's O'Neil rock'n'roll naïve café façade").split(" ");
  private static final String[] CODE = {
      "def f(x):\n    return x ** 2  # square\n",
      "for (int i = 0; i < n; i++) {\n\tsum += a[i] * b[i];\n}\n",
      "if (a != b && c >= d || !e) { throw new IllegalStateException(\"bad: \" + a); }\n",
      "SELECT id, name FROM users WHERE age > 21 ORDER BY name;\r\n",
      "<div class=\"x\"><a href='https://example.com/?q=1&r=2'>link</a></div>\n",
      "const xs = [1, 2, 3].map((v) => v * 2); // => [2, 4, 6]\n",
      "    \t  \n\n\n  # indented comment\n",
      "$ ls -la ~/.cache | grep -v '^d' >> out.log 2>&1\n",
      "x=[[0]*10 for _ in range(10)];print(x[3][4])\n",
      "#include <stdio.h>\nint main(void){printf(\"%d\\n\",42);}\n"};
  private static final String[] SCRIPTS = {
      "你好，世界！这是一个测试。我们正在检查分词器是否与参考实现完全一致。",
      "日本語のテキストとカタカナ、ひらがなを混ぜた文章です。東京は大きい都市です。",
      "한국어 문장도 포함합니다. 서울은 대한민국의 수도입니다.",
      "Привет, мир! Это проверка токенизатора. Ёжик в тумане.",
      "مرحبا بالعالم! هذا اختبار للمحلل اللغوي. ١٢٣٤٥",
      "שלום עולם! זוהי בדיקה.",
      "नमस्ते दुनिया! यह एक परीक्षण है। १२३",
      "สวัสดีชาวโลก นี่คือการทดสอบ",
      "Γειά σου Κόσμε! Αυτό είναι ένα τεστ.",
      "Tiếng Việt có dấu: Hà Nội, Đà Nẵng, thành phố Hồ Chí Minh.",
      "Ünïcödé façade — “quotes” … ½ ¾ ™ © ® ° ± × ÷ € £ ¥"};
  private static final String[] EMOJI = {
      "😀", "😂", "👍🏽", "👨‍👩‍👧‍👦", "🇩🇪", "🇯🇵", "❤️", "🏳️‍🌈", "🤖", "🧑🏿‍💻", "☕", "✅", "🚀", "🎉"};
  private static final String[] SPACES = {
      " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\u00A0", "\u3000", "\u2003", "\u2009",
      "\u200B", "\u2028", "\u0085", "        ", "\t\t", " \t \n"};

  private MultilingualSample() {}

  /**
   * @param minChars the least number of characters in total
   * @param chat renders a conversation with the model's chat template (may be null)
   * @param specialTokens texts of special tokens to scatter in the text
   * @param randomUnicode whether to include random assigned code points (of the JDK's Unicode
   *     version, which tables built for another version may classify or normalize otherwise)
   */
  static List<String> generate(
      long seed, int minChars, Function<List<ChatMessage>, String> chat, List<String> specialTokens,
      boolean randomUnicode) {
    Random random = new Random(seed);
    List<String> items = new ArrayList<>();
    int total = 0;
    int kind = 0;
    while (total < minChars) {
      String item = switch (kind++ % 10) {
        case 0 -> english(random);
        case 1 -> pick(random, CODE) + pick(random, CODE);
        case 2 -> numbers(random);
        case 3 -> whiteSpace(random);
        case 4 -> pick(random, SCRIPTS) + pick(random, SPACES) + pick(random, SCRIPTS);
        case 5 -> emoji(random);
        case 6 -> combining(random);
        case 7 -> randomUnicode ? randomUnicode(random) : english(random);
        case 8 -> chat == null ? mixed(random, specialTokens) : chat.apply(conversation(random));
        default -> mixed(random, specialTokens);
      };
      items.add(item);
      total += item.length();
    }
    return items;
  }

  private static String english(Random random) {
    StringBuilder sb = new StringBuilder();
    int words = 5 + random.nextInt(40);
    for (int i = 0; i < words; i++) {
      String w = pick(random, ENGLISH);
      if (i == 0 || random.nextInt(8) == 0) {
        w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
      }
      sb.append(w);
      sb.append(switch (random.nextInt(12)) {
        case 0 -> ", ";
        case 1 -> ". ";
        case 2 -> "! ";
        case 3 -> "? ";
        case 4 -> " (" + pick(random, ENGLISH) + ") ";
        case 5 -> "\n";
        case 6 -> "  ";
        default -> " ";
      });
    }
    return sb.toString();
  }

  private static String numbers(Random random) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      sb.append(switch (random.nextInt(7)) {
        case 0 -> Integer.toString(random.nextInt(1000));
        case 1 -> Long.toString(Math.abs(random.nextLong()));
        case 2 -> String.format(java.util.Locale.ROOT, "%.4f", random.nextDouble() * 1e4);
        case 3 -> String.format(java.util.Locale.ROOT, "%,d", random.nextInt(Integer.MAX_VALUE));
        case 4 -> "+1 (555) " + random.nextInt(900) + "-" + (1000 + random.nextInt(9000));
        case 5 -> "2024-0" + (1 + random.nextInt(9)) + "-1" + random.nextInt(10) + "T12:34:56Z";
        default -> "v" + random.nextInt(10) + "." + random.nextInt(100) + ".x" + "١٢٣".substring(random.nextInt(3));
      });
      sb.append(pick(random, new String[] {" ", ", ", "\n", "", "%", "$"}));
    }
    return sb.toString();
  }

  private static String whiteSpace(Random random) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 12; i++) {
      sb.append(pick(random, SPACES));
      if (random.nextBoolean()) {
        sb.append(pick(random, ENGLISH));
      }
    }
    return sb.toString();
  }

  private static String emoji(Random random) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 10; i++) {
      sb.append(pick(random, EMOJI));
      sb.append(random.nextBoolean() ? " " : pick(random, ENGLISH));
    }
    return sb.toString();
  }

  private static String combining(Random random) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 30; i++) {
      sb.append((char) ('a' + random.nextInt(26)));
      int marks = random.nextInt(3);
      for (int m = 0; m < marks; m++) {
        sb.append((char) (0x0300 + random.nextInt(0x70))); // combining diacritical marks
      }
      if (random.nextInt(5) == 0) {
        sb.append(' ');
      }
    }
    return sb.toString();
  }

  /** Random assigned code points of the BMP and the supplementary planes, no lone surrogates. */
  private static String randomUnicode(Random random) {
    StringBuilder sb = new StringBuilder();
    while (sb.length() < 60) {
      int cp = random.nextInt(4) == 0 ? random.nextInt(0x30000) : random.nextInt(0x10000);
      int type = Character.getType(cp);
      if (type == Character.UNASSIGNED || type == Character.SURROGATE || type == Character.PRIVATE_USE) {
        continue;
      }
      sb.appendCodePoint(cp);
    }
    return sb.toString();
  }

  private static String mixed(Random random, List<String> specialTokens) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 6; i++) {
      sb.append(switch (random.nextInt(4)) {
        case 0 -> pick(random, ENGLISH);
        case 1 -> pick(random, SPACES);
        case 2 -> pick(random, EMOJI);
        default -> specialTokens.isEmpty() ? "<|x|>" : specialTokens.get(random.nextInt(specialTokens.size()));
      });
      if (random.nextBoolean()) {
        sb.append(pick(random, SCRIPTS), 0, 3);
      }
    }
    return sb.toString();
  }

  private static List<ChatMessage> conversation(Random random) {
    List<ChatMessage> messages = new ArrayList<>();
    if (random.nextBoolean()) {
      messages.add(new ChatMessage("system", english(random)));
    }
    int turns = 1 + random.nextInt(3);
    for (int t = 0; t < turns; t++) {
      messages.add(new ChatMessage("user", random.nextBoolean() ? english(random) : pick(random, SCRIPTS)));
      if (t + 1 < turns) {
        messages.add(new ChatMessage("assistant", pick(random, CODE)));
      }
    }
    return messages;
  }

  private static String pick(Random random, String[] options) {
    return options[random.nextInt(options.length)];
  }
}
