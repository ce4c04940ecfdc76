// Russian and English. Russian is the default when the system's language is Russian.
const en = {
  tagline: 'Every client conversation, one calm window.',
  openDemo: 'Open demo workspace',
  demoHint: 'A workspace on this computer with sample channels, a CRM and clients who write now and then.',
  pickEmployee: 'Sign in to the demo as',
  connect: 'Connect to a hub',
  hubUrl: 'Hub URL',
  token: 'Token',
  connectButton: 'Connect',
  role_seller: 'seller',
  role_supervisor: 'supervisor',
  role_none: 'no chat access',
  receivesNew: 'receives new clients',
  filterMine: 'Mine to answer',
  filterOthers: 'Waiting for others',
  filterAll: 'All',
  noChats: 'No chats here.',
  pickChat: 'Pick a chat on the left.',
  online: 'Online',
  offline: 'Offline — showing what was synced',
  signOut: 'Sign out',
  markAnswered: 'Mark answered',
  reply: 'Write a reply…',
  send: 'Send',
  you: 'You',
  unanswered: 'unanswered',
  back: 'Back',
  demo: 'Demo',
  settings: 'Settings',
  crmIntegration: 'CRM integration',
  additional: 'Additional',
  saveToTimeline: 'Save messages to the event feed of the lead, contact and deal',
  eightAsPlus7: 'Treat CRM numbers written with 8 as +7 numbers',
  notifySupervisorsAll: 'Notify supervisors about all messages',
  notifySupervisorsAllHint: 'On: supervisors see every unanswered chat red and get every notification. Off: only their own chats; others are grey.',
  escalate: 'Escalate to supervisors after',
  minutes: 'minutes without a reply',
  readOnly: 'Only supervisors can change these settings.',
  close: 'Close',
} as const;

export type Key = keyof typeof en;

const ru: Record<Key, string> = {
  tagline: 'Все разговоры с клиентами — в одном спокойном окне.',
  openDemo: 'Открыть демо-пространство',
  demoHint: 'Пространство на этом компьютере: тестовые каналы, CRM и клиенты, которые время от времени пишут.',
  pickEmployee: 'Войти в демо как',
  connect: 'Подключиться к хабу',
  hubUrl: 'Адрес хаба',
  token: 'Токен',
  connectButton: 'Подключиться',
  role_seller: 'продавец',
  role_supervisor: 'руководитель',
  role_none: 'без доступа к чатам',
  receivesNew: 'получает новых клиентов',
  filterMine: 'Мне ответить',
  filterOthers: 'Ждут других',
  filterAll: 'Все',
  noChats: 'Здесь нет чатов.',
  pickChat: 'Выберите чат слева.',
  online: 'В сети',
  offline: 'Нет связи — показано то, что успело синхронизироваться',
  signOut: 'Выйти',
  markAnswered: 'Ответ не нужен',
  reply: 'Напишите ответ…',
  send: 'Отправить',
  you: 'Вы',
  unanswered: 'без ответа',
  back: 'Назад',
  demo: 'Демо',
  settings: 'Настройки',
  crmIntegration: 'Интеграция с CRM',
  additional: 'Дополнительно',
  saveToTimeline: 'Сохранять сообщения в ленту событий лида, контакта и сделки',
  eightAsPlus7: 'Номера, записанные в CRM через 8, считать номерами с +7',
  notifySupervisorsAll: 'Уведомлять руководителей обо всех сообщениях',
  notifySupervisorsAllHint: 'Включено: руководители видят все неотвеченные чаты красными и получают все уведомления. Выключено: только свои чаты, чужие — серые.',
  escalate: 'Передавать руководителям чаты без ответа дольше',
  minutes: 'минут',
  readOnly: 'Изменять эти настройки могут только руководители.',
  close: 'Закрыть',
};

export type Locale = 'ru' | 'en';

export function pickLocale(languages: readonly string[]): Locale {
  const first = languages[0]?.toLowerCase() ?? '';
  return first.startsWith('ru') ? 'ru' : 'en';
}

export function translator(locale: Locale): (key: Key) => string {
  const table: Record<Key, string> = locale === 'ru' ? ru : en;
  return (key) => table[key];
}

const systemLanguages = typeof navigator === 'undefined' ? [] : navigator.languages ?? [navigator.language];
export const locale: Locale = pickLocale(systemLanguages);
export const t = translator(locale);

/** A time as the list shows it: the clock today, the date otherwise. */
export function shortTime(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(locale, { day: 'numeric', month: 'short' });
}
